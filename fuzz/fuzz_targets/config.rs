//! Any text as a routing config: parsing and validation report problems, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_core::config::parse_config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) = parse_config(&text) {
        // A refused config always says why.
        assert!(!errors.0.is_empty(), "a refused config reported no problem");
    }
});
