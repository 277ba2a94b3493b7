//! Fuzzes the compiled-graph reader: `Program::from_json` must refuse any
//! bytes that are not a sound compiled graph with an error, never panic,
//! overflow the stack or hang, whatever the nesting or the numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(program) = flow_runtime::Program::from_json(text) {
        // A graph that loads serializes again, and loads again.
        let again = flow_runtime::Program::from_json(&program.json);
        assert!(again.is_ok(), "a loaded graph does not load again: {:?}", again.err());
    }
});
