//! ccreg: the national call-centre licensing registry.

pub mod agency_clients;
pub mod app;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod clearances;
pub mod clock;
pub mod config;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod http;
pub mod inspections;
pub mod invoices;
pub mod keys;
pub mod licences;
pub mod openapi;
pub mod organisations;
pub mod seed;
pub mod service;
pub mod sites;
pub mod state;
pub mod telephony;
pub mod users;
pub mod verify;
