#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| samskap_fuzz::services_csv(data));
