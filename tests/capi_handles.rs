//! Owned C handles used after `_destroy`, destroyed twice, or passed as another kind of handle: the
//! call fails with a message naming the argument instead of touching freed or foreign memory.

use std::ffi::{CStr, c_void};
use std::ptr::null_mut;

use infer8::capi::boundary::infer8_last_error;
use infer8::capi::builder::*;
use infer8::capi::caffe::*;
use infer8::capi::engine::*;
use infer8::capi::host_memory::*;
use infer8::capi::logger::infer8_logger;
use infer8::capi::network::*;
use infer8::capi::runtime::*;

fn last_error() -> String {
    // SAFETY: NULL or a NUL-terminated string owned by the library's thread-local.
    let p = infer8_last_error();
    assert!(!p.is_null());
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

const LOG: infer8_logger = infer8_logger {
    user: std::ptr::null_mut(),
    log: None,
};

/// A freed address may be handed to the next object made: tests that free on purpose take turns.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_destroyed_handle_is_refused() {
    let _serial = serial();
    // SAFETY: the handles are made here; the stale ones are only handed back to the library, which
    // must refuse them without reading them.
    unsafe {
        let b = infer8_builder_create(&LOG);
        let net = infer8_builder_create_network(b);
        infer8_network_destroy(net);
        assert_eq!(infer8_network_get_nb_layers(net), -1);
        let e = last_error();
        assert!(
            e.starts_with("infer8_network_get_nb_layers: network is not a live infer8_network"),
            "{e}"
        );
        infer8_network_destroy(net);
        let e = last_error();
        assert!(
            e.starts_with("infer8_network_destroy: net is not a live"),
            "{e}"
        );

        infer8_builder_destroy(b);
        assert!(!infer8_builder_set_max_batch_size(b, 4));
        assert!(last_error().contains("not a live infer8_builder"));
        infer8_builder_destroy(b);
        assert!(last_error().starts_with("infer8_builder_destroy:"));

        let rt = infer8_runtime_create(&LOG);
        infer8_runtime_destroy(rt);
        let bytes = [0u8; 8];
        assert!(
            infer8_runtime_deserialize_engine(rt, bytes.as_ptr() as *const c_void, 8).is_null()
        );
        assert!(last_error().contains("not a live infer8_runtime"));

        let p = infer8_caffe_parser_create();
        infer8_caffe_parser_destroy(p);
        assert!(!infer8_caffe_parser_parse(
            p,
            c"d".as_ptr(),
            c"m".as_ptr(),
            null_mut(),
            0
        ));
        assert!(last_error().contains("not a live infer8_caffe_parser"));
    }
}

#[test]
fn a_handle_of_another_kind_is_refused() {
    let _serial = serial();
    // SAFETY: as above: the mistyped pointers are only checked by the library, never read.
    unsafe {
        let b = infer8_builder_create(&LOG);
        let net = infer8_builder_create_network(b);
        let as_engine = b as *mut infer8_engine;
        assert_eq!(infer8_engine_get_nb_bindings(as_engine), -1);
        let e = last_error();
        assert!(
            e.contains("engine is an infer8_builder, not an infer8_engine"),
            "{e}"
        );
        assert_eq!(infer8_host_memory_size(net as *const infer8_host_memory), 0);
        assert!(last_error().contains("is an infer8_network"));
        // Destroying through the wrong function frees nothing: the objects still work.
        infer8_engine_destroy(as_engine);
        assert!(last_error().starts_with("infer8_engine_destroy:"));
        assert!(infer8_builder_set_max_batch_size(b, 2));
        assert_eq!(infer8_network_get_nb_layers(net), 0);
        infer8_network_destroy(net);
        infer8_builder_destroy(b);
    }
}
