//! The integration suite: every rule through HTTP against the real server.

mod helpers;

mod agency_clients;
mod audit;
mod auth;
mod cli;
mod http_rules;
mod service;
mod tokens;
mod users;
