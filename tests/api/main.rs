//! The integration suite: every rule through HTTP against the real server.

mod helpers;

mod agency_clients;
mod audit;
mod auth;
mod cli;
mod documents;
mod dossier;
mod enforcement_intel;
mod evidence;
mod http_rules;
mod index;
mod input_rules;
mod inspections;
mod integrity;
mod isolation;
mod licensing;
mod lists;
mod oauth_clients;
mod operations;
mod pages;
mod personal_data;
mod portal;
mod portal_pages;
mod public_api;
mod register;
mod registry;
mod seed;
mod service;
mod spec_rules;
mod telephony;
mod tokens;
mod users;
mod verify;
mod versions;
mod webhooks;
