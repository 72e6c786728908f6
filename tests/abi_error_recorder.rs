//! `IErrorRecorder` on `IBuilder`, `IRuntime`, `ICudaEngine` and `IExecutionContext`: errors of
//! the object and of what it creates afterwards reach the recorder (and still the logger), the
//! library holds one reference while the recorder is set, and removing it stops the reports.

mod abi_support;

use std::ffi::{CStr, c_char, c_void};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

use abi_support::{TestLogger, serial, vt};
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};
use infer8::abi::error_recorder::IErrorRecorderVtbl;
use infer8::abi::network::INetworkDefinitionVtbl;
use infer8::abi::runtime::{IRuntimeVtbl, createInferRuntime_INTERNAL};

#[repr(C)]
struct Recorder {
    vtable: &'static IErrorRecorderVtbl,
    errors: Mutex<Vec<(i32, String)>>,
    refs: AtomicI32,
}

fn me<'a>(p: *mut c_void) -> &'a Recorder {
    unsafe { &*(p as *const Recorder) }
}

unsafe extern "C" fn noop(_: *mut c_void) {}
unsafe extern "C" fn nb(p: *mut c_void) -> i32 {
    me(p).errors.lock().unwrap().len() as i32
}
unsafe extern "C" fn code(p: *mut c_void, i: i32) -> i32 {
    me(p).errors.lock().unwrap()[i as usize].0
}
unsafe extern "C" fn desc(_: *mut c_void, _: i32) -> *const c_char {
    std::ptr::null()
}
unsafe extern "C" fn overflowed(_: *mut c_void) -> bool {
    false
}
unsafe extern "C" fn clear(p: *mut c_void) {
    me(p).errors.lock().unwrap().clear()
}
unsafe extern "C" fn report(p: *mut c_void, c: i32, d: *const c_char) -> bool {
    let d = unsafe { CStr::from_ptr(d) }.to_string_lossy().into_owned();
    me(p).errors.lock().unwrap().push((c, d));
    false
}
unsafe extern "C" fn inc(p: *mut c_void) -> i32 {
    me(p).refs.fetch_add(1, Ordering::SeqCst) + 1
}
unsafe extern "C" fn dec(p: *mut c_void) -> i32 {
    me(p).refs.fetch_sub(1, Ordering::SeqCst) - 1
}

static VTABLE: IErrorRecorderVtbl = IErrorRecorderVtbl {
    dtor_complete: noop,
    dtor_deleting: noop,
    getNbErrors: nb,
    getErrorCode: code,
    getErrorDesc: desc,
    hasOverflowed: overflowed,
    clear,
    reportError: report,
    incRefCount: inc,
    decRefCount: dec,
};

#[test]
fn errors_reach_the_recorder_of_builder_and_runtime() {
    let _guard = serial();
    let logger = TestLogger::new();
    let rec = Recorder {
        vtable: &VTABLE,
        errors: Mutex::new(Vec::new()),
        refs: AtomicI32::new(0),
    };
    let rp = &rec as *const Recorder as *mut c_void;
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 7000);
        let b: &IBuilderVtbl = vt(builder);
        (b.setErrorRecorder)(builder.cast(), rp);
        assert_eq!((b.getErrorRecorder)(builder.cast()), rp);
        assert_eq!(rec.refs.load(Ordering::SeqCst), 1);
        (b.setMaxBatchSize)(builder.cast(), 0);
        logger.expect_error("batchSize must be positive");
        // A network made afterwards reports to the same recorder.
        let net = (b.createNetworkV2)(builder.cast(), 1);
        let n: &INetworkDefinitionVtbl = vt(net);
        assert!(
            (n.addInput)(
                net,
                std::ptr::null(),
                0,
                infer8::abi::dims::Dims::from_values(&[1])
            )
            .is_null()
        );
        logger.expect_error("argument `name` is null");
        {
            let errors = rec.errors.lock().unwrap();
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert_eq!(errors[0].0, 1);
            assert!(errors[0].1.contains("batchSize"));
        }
        // Removed: no more reports; the network still holds its reference until destroyed.
        (b.setErrorRecorder)(builder.cast(), std::ptr::null_mut());
        assert!((b.getErrorRecorder)(builder.cast()).is_null());
        (b.setMaxBatchSize)(builder.cast(), -1);
        logger.expect_error("batchSize must be positive");
        assert_eq!(rec.errors.lock().unwrap().len(), 2);
        (n.destroy)(net);
        (b.destroy)(builder.cast());
        assert_eq!(rec.refs.load(Ordering::SeqCst), 0);

        let runtime = createInferRuntime_INTERNAL(logger.ptr(), 7000);
        let r: &IRuntimeVtbl = vt(runtime);
        (r.setErrorRecorder)(runtime.cast(), rp);
        let junk = [0u8; 8];
        assert!(
            (r.deserializeCudaEngine)(
                runtime.cast(),
                junk.as_ptr().cast(),
                junk.len(),
                std::ptr::null_mut()
            )
            .is_null()
        );
        logger.expect_error("not an infer8 engine file");
        assert_eq!(rec.errors.lock().unwrap().len(), 3);
        (r.destroy)(runtime.cast());
        assert_eq!(rec.refs.load(Ordering::SeqCst), 0);
    }
}

fn recorder() -> Recorder {
    Recorder {
        vtable: &VTABLE,
        errors: Mutex::new(Vec::new()),
        refs: AtomicI32::new(0),
    }
}

/// `ICudaEngine` and `IExecutionContext` (TensorRT 7): a recorder set on the engine hears its
/// errors and those of contexts made afterwards; one set on a context hears that context's.
#[test]
fn errors_reach_the_recorder_of_engine_and_context() {
    use abi_support::session::*;
    use infer8::abi::context::IExecutionContextVtbl;
    use infer8::abi::engine::ICudaEngineVtbl;
    let _guard = serial();
    let (rec, rec2) = (recorder(), recorder());
    let rp = &rec as *const Recorder as *mut c_void;
    let rp2 = &rec2 as *const Recorder as *mut c_void;
    let s = Session::new();
    unsafe {
        let x = s.input("x", FLOAT, &[1, 4]);
        s.mark(output((s.n().addActivation)(s.net, x, 0)));
        let b: &IBuilderVtbl = vt(s.builder);
        let config = (b.createBuilderConfig)(s.builder.cast());
        let engine = (b.buildEngineWithConfig)(s.builder.cast(), s.net, config);
        let e: &ICudaEngineVtbl = vt(engine);
        assert!((e.getErrorRecorder)(engine).is_null());
        (e.setErrorRecorder)(engine, rp);
        assert_eq!((e.getErrorRecorder)(engine), rp);
        assert_eq!(rec.refs.load(Ordering::SeqCst), 1);
        (e.getBindingDimensions)(engine, 7);
        s.logger.expect_error("binding index");
        assert_eq!(rec.errors.lock().unwrap().len(), 1);

        let ctx = (e.createExecutionContext)(engine);
        let cx: &IExecutionContextVtbl = vt(ctx);
        assert!(!(cx.setBindingDimensions)(ctx, 5, dims(&[1, 4])));
        s.logger.expect_error("binding index");
        assert_eq!(rec.errors.lock().unwrap().len(), 2);
        (cx.setErrorRecorder)(ctx, rp2);
        assert_eq!((cx.getErrorRecorder)(ctx), rp2);
        assert!(!(cx.setBindingDimensions)(ctx, 1, dims(&[1, 4])));
        s.logger.expect_error("is an output");
        assert_eq!(rec2.errors.lock().unwrap().len(), 1);
        (cx.destroy)(ctx);
        assert_eq!(rec2.refs.load(Ordering::SeqCst), 0);
        (e.setErrorRecorder)(engine, std::ptr::null_mut());
        assert_eq!(rec.refs.load(Ordering::SeqCst), 0);
        (e.destroy)(engine);
        (vt::<infer8::abi::builder_config::IBuilderConfigVtbl, _>(config).destroy)(config.cast());
    }
}
