#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| samskap_fuzz::survey_file(data));
