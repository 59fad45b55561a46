#![allow(dead_code)] // each test binary uses its own part of the support code

pub mod fixtures;
pub mod mock_api;
