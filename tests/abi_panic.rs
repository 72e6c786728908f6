//! A real exported entry point panics on request (`INFER8_TEST_PANIC` names it) and the boundary
//! turns the panic into a kINTERNAL_ERROR log and the default return value. One test per binary:
//! the variable is read once per process.

mod abi_support;

use abi_support::{TestLogger, vt};
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};

#[test]
fn a_panicking_method_returns_its_default_and_logs() {
    // SAFETY: set before any library call reads it, in a single-test binary.
    unsafe { std::env::set_var("INFER8_TEST_PANIC", "IBuilder::getMaxBatchSize") };
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        (b.setMaxBatchSize)(builder.cast(), 8);
        assert_eq!((b.getMaxBatchSize)(builder.cast()), 0);
        let m = logger.messages.lock().unwrap().clone();
        assert!(
            m.iter().any(|(s, t)| *s == 0
                && t.contains("IBuilder::getMaxBatchSize")
                && t.contains("INFER8_TEST_PANIC")),
            "{m:?}"
        );
        (b.destroy)(builder.cast());
    }
}
