//! Every C function with NULL pointer arguments, bad enum values and out-of-range indices: it must
//! return its failure value, leave a message naming itself in `infer8_last_error()`, and not crash.

// The table-driven macro compares pointers and scalars alike with their failure values.
#![allow(clippy::cmp_null)]

use std::ffi::{CStr, c_char, c_void};
use std::ptr::{null, null_mut};

use infer8::capi::boundary::infer8_last_error;
use infer8::capi::builder::*;
use infer8::capi::caffe::*;
use infer8::capi::context::*;
use infer8::capi::engine::*;
use infer8::capi::host_memory::*;
use infer8::capi::layer::*;
use infer8::capi::logger::infer8_logger;
use infer8::capi::network::*;
use infer8::capi::runtime::*;
use infer8::capi::tensor::*;
use infer8::capi::types::infer8_dims;

fn last_error() -> String {
    let p = infer8_last_error();
    assert!(!p.is_null(), "no last error");
    // SAFETY: a NUL-terminated string owned by the library's thread-local.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// `fails!(f(args) => default)`: the call returns `default` and names itself in the last error.
macro_rules! fails {
    ($f:ident($($arg:expr),*) => $default:expr) => {{
        // SAFETY: every pointer argument is NULL or valid.
        // (Some callers are already inside an unsafe block.)
        #[allow(unused_unsafe)]
        let got = unsafe { $f($($arg),*) };
        assert!(got == $default, "{} returned a success value", stringify!($f));
        let e = last_error();
        assert!(e.starts_with(concat!(stringify!($f), ":")), "{}: last error is {e:?}", stringify!($f));
        e
    }};
}

const S: *const c_char = c"x".as_ptr();

#[test]
fn null_arguments_fail_cleanly() {
    let w = [1.0f32];
    let d = [1i32];
    fails!(infer8_builder_create(null()) => null_mut());
    fails!(infer8_builder_create_network(null_mut()) => null_mut());
    fails!(infer8_builder_set_max_batch_size(null_mut(), 1) => false);
    fails!(infer8_builder_get_max_batch_size(null_mut()) => -1);
    fails!(infer8_builder_set_max_workspace_size(null_mut(), 1) => false);
    fails!(infer8_builder_set_fp16_mode(null_mut(), true) => false);
    fails!(infer8_builder_set_int8_mode(null_mut(), true) => false);
    fails!(infer8_builder_set_strict_type_constraints(null_mut(), true) => false);
    fails!(infer8_builder_set_debug_sync(null_mut(), true) => false);
    fails!(infer8_builder_set_min_find_iterations(null_mut(), 1) => false);
    fails!(infer8_builder_set_average_find_iterations(null_mut(), 1) => false);
    fails!(infer8_builder_set_int8_calibrator(null_mut(), null()) => false);
    fails!(infer8_builder_build_engine(null_mut(), null_mut()) => null_mut());

    fails!(infer8_network_add_input(null_mut(), S, 0, d.as_ptr(), 1) => null_mut());
    fails!(infer8_network_mark_output(null_mut(), null_mut()) => false);
    fails!(infer8_network_unmark_output(null_mut(), null_mut()) => false);
    fails!(infer8_network_get_nb_layers(null_mut()) => -1);
    fails!(infer8_network_get_nb_inputs(null_mut()) => -1);
    fails!(infer8_network_get_nb_outputs(null_mut()) => -1);
    fails!(infer8_network_get_layer(null_mut(), 0) => null_mut());
    fails!(infer8_network_get_input(null_mut(), 0) => null_mut());
    fails!(infer8_network_get_output(null_mut(), 0) => null_mut());
    fails!(infer8_network_find_tensor(null_mut(), S) => null_mut());
    fails!(infer8_network_add_convolution(null_mut(), null_mut(), 1, 1, 1, w.as_ptr(), 1, null(), 0) => null_mut());
    fails!(infer8_network_add_deconvolution(null_mut(), null_mut(), 1, 1, 1, w.as_ptr(), 1, null(), 0) => null_mut());
    fails!(infer8_network_add_pooling(null_mut(), null_mut(), 0, 1, 1) => null_mut());
    fails!(infer8_network_add_fully_connected(null_mut(), null_mut(), 1, w.as_ptr(), 1, null(), 0) => null_mut());
    fails!(infer8_network_add_activation(null_mut(), null_mut(), 0) => null_mut());
    fails!(infer8_network_add_parametric_relu(null_mut(), null_mut(), null_mut()) => null_mut());
    fails!(infer8_network_add_lrn(null_mut(), null_mut(), 1, 1.0, 1.0, 1.0) => null_mut());
    fails!(infer8_network_add_scale(null_mut(), null_mut(), 0, null(), 0, null(), 0, null(), 0) => null_mut());
    fails!(infer8_network_add_softmax(null_mut(), null_mut()) => null_mut());
    fails!(infer8_network_add_concatenation(null_mut(), null(), 1) => null_mut());
    fails!(infer8_network_add_elementwise(null_mut(), null_mut(), null_mut(), 0) => null_mut());
    fails!(infer8_network_add_unary(null_mut(), null_mut(), 0) => null_mut());
    fails!(infer8_network_add_padding(null_mut(), null_mut(), 0, 0, 0, 0) => null_mut());
    fails!(infer8_network_add_shuffle(null_mut(), null_mut()) => null_mut());
    fails!(infer8_network_add_constant(null_mut(), d.as_ptr(), 1, w.as_ptr(), 1) => null_mut());
    fails!(infer8_network_add_identity(null_mut(), null_mut()) => null_mut());
    fails!(infer8_network_add_slice(null_mut(), null_mut(), d.as_ptr(), d.as_ptr(), d.as_ptr(), 1) => null_mut());
    fails!(infer8_network_add_reduce(null_mut(), null_mut(), 0, 1, false) => null_mut());
    fails!(infer8_network_add_topk(null_mut(), null_mut(), 0, 1, 1) => null_mut());
    fails!(infer8_network_add_matrix_multiply(null_mut(), null_mut(), 0, null_mut(), 0) => null_mut());
    fails!(infer8_network_add_gather(null_mut(), null_mut(), null_mut(), 0) => null_mut());

    fails!(infer8_tensor_set_name(null_mut(), S) => false);
    fails!(infer8_tensor_get_name(null_mut()) => null());
    fails!(infer8_tensor_get_dims(null_mut()) => infer8_dims::INVALID);
    fails!(infer8_tensor_set_dims(null_mut(), d.as_ptr(), 1) => false);
    fails!(infer8_tensor_get_type(null_mut()) => -1);
    fails!(infer8_tensor_set_type(null_mut(), 0) => false);
    fails!(infer8_tensor_set_dynamic_range(null_mut(), -1.0, 1.0) => false);
    fails!(infer8_tensor_get_dynamic_range(null_mut(), null_mut(), null_mut()) => false);
    fails!(infer8_tensor_is_network_input(null_mut()) => false);
    fails!(infer8_tensor_is_network_output(null_mut()) => false);

    fails!(infer8_layer_get_type(null_mut()) => -1);
    fails!(infer8_layer_set_name(null_mut(), S) => false);
    fails!(infer8_layer_get_name(null_mut()) => null());
    fails!(infer8_layer_get_nb_inputs(null_mut()) => -1);
    fails!(infer8_layer_get_input(null_mut(), 0) => null_mut());
    fails!(infer8_layer_set_input(null_mut(), 0, null_mut()) => false);
    fails!(infer8_layer_get_nb_outputs(null_mut()) => -1);
    fails!(infer8_layer_get_output(null_mut(), 0) => null_mut());
    fails!(infer8_layer_set_precision(null_mut(), 0) => false);
    fails!(infer8_layer_get_precision(null_mut()) => -1);
    fails!(infer8_layer_set_output_type(null_mut(), 0, 0) => false);
    fails!(infer8_layer_get_output_type(null_mut(), 0) => -1);
    fails!(infer8_layer_set_stride(null_mut(), 1, 1) => false);
    fails!(infer8_layer_set_padding(null_mut(), 1, 1) => false);
    fails!(infer8_layer_set_pre_padding(null_mut(), 1, 1) => false);
    fails!(infer8_layer_set_post_padding(null_mut(), 1, 1) => false);
    fails!(infer8_layer_set_padding_mode(null_mut(), 0) => false);
    fails!(infer8_layer_set_dilation(null_mut(), 1, 1) => false);
    fails!(infer8_layer_set_groups(null_mut(), 1) => false);
    fails!(infer8_layer_set_kernel_size(null_mut(), 1, 1) => false);
    fails!(infer8_layer_set_nb_outputs(null_mut(), 1) => false);
    fails!(infer8_layer_set_kernel_weights(null_mut(), w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_bias_weights(null_mut(), w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_pooling_type(null_mut(), 0) => false);
    fails!(infer8_layer_set_window_size(null_mut(), 1, 1) => false);
    fails!(infer8_layer_set_blend_factor(null_mut(), 0.5) => false);
    fails!(infer8_layer_set_average_count_excludes_padding(null_mut(), true) => false);
    fails!(infer8_layer_set_activation_type(null_mut(), 0) => false);
    fails!(infer8_layer_set_alpha(null_mut(), 1.0) => false);
    fails!(infer8_layer_set_beta(null_mut(), 1.0) => false);
    fails!(infer8_layer_set_lrn_window(null_mut(), 1) => false);
    fails!(infer8_layer_set_lrn_k(null_mut(), 1.0) => false);
    fails!(infer8_layer_set_scale_mode(null_mut(), 0) => false);
    fails!(infer8_layer_set_shift(null_mut(), w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_scale(null_mut(), w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_power(null_mut(), w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_axes(null_mut(), 1) => false);
    fails!(infer8_layer_set_axis(null_mut(), 0) => false);
    fails!(infer8_layer_set_elementwise_operation(null_mut(), 0) => false);
    fails!(infer8_layer_set_unary_operation(null_mut(), 0) => false);
    fails!(infer8_layer_set_reduce_operation(null_mut(), 0) => false);
    fails!(infer8_layer_set_keep_dimensions(null_mut(), true) => false);
    fails!(infer8_layer_set_topk_operation(null_mut(), 0) => false);
    fails!(infer8_layer_set_k(null_mut(), 1) => false);
    fails!(infer8_layer_set_matrix_operation(null_mut(), 0, 0) => false);
    fails!(infer8_layer_set_first_transpose(null_mut(), d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_reshape_dimensions(null_mut(), d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_second_transpose(null_mut(), d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_weights(null_mut(), w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_dimensions(null_mut(), d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_slice_start(null_mut(), d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_slice_size(null_mut(), d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_slice_stride(null_mut(), d.as_ptr(), 1) => false);

    fails!(infer8_engine_get_nb_bindings(null_mut()) => -1);
    fails!(infer8_engine_get_binding_index(null_mut(), S) => -1);
    fails!(infer8_engine_get_binding_name(null_mut(), 0) => null());
    fails!(infer8_engine_binding_is_input(null_mut(), 0) => false);
    fails!(infer8_engine_get_binding_data_type(null_mut(), 0) => -1);
    fails!(infer8_engine_get_max_batch_size(null_mut()) => -1);
    fails!(infer8_engine_get_nb_layers(null_mut()) => -1);
    fails!(infer8_engine_serialize(null_mut()) => null_mut());
    fails!(infer8_engine_create_execution_context(null_mut()) => null_mut());
    fails!(infer8_engine_get_binding_dims(null_mut(), 0) => infer8_dims::INVALID);

    fails!(infer8_context_execute(null_mut(), 1, null()) => false);
    fails!(infer8_context_set_profiler(null_mut(), null()) => false);
    fails!(infer8_host_memory_data(null_mut()) => null());
    fails!(infer8_host_memory_size(null_mut()) => 0);
    fails!(infer8_runtime_create(null()) => null_mut());
    fails!(infer8_runtime_deserialize_engine(null_mut(), null(), 0) => null_mut());

    fails!(infer8_caffe_parser_parse(null_mut(), S, S, null_mut(), 0) => false);
    fails!(infer8_caffe_parser_find(null_mut(), null_mut(), S) => null_mut());
    fails!(infer8_caffe_export_wts(null(), S, S, S) => false);

    // Destroying NULL is a no-op.
    // SAFETY: NULL is allowed.
    unsafe {
        infer8_builder_destroy(null_mut());
        infer8_network_destroy(null_mut());
        infer8_engine_destroy(null_mut());
        infer8_context_destroy(null_mut());
        infer8_runtime_destroy(null_mut());
        infer8_host_memory_destroy(null_mut());
        infer8_caffe_parser_destroy(null_mut());
    }
}

extern "C" fn collect(user: *mut c_void, severity: i32, msg: *const c_char) {
    // SAFETY: `user` is the Vec the test passed; `msg` is valid during the call.
    let log = unsafe { &mut *(user as *mut Vec<(i32, String)>) };
    log.push((
        severity,
        unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned(),
    ));
}

/// Bad values on live objects: the message names the argument and reaches the logger too.
#[test]
fn bad_values_are_reported_to_the_logger() {
    let mut log: Vec<(i32, String)> = Vec::new();
    let logger = infer8_logger {
        user: &mut log as *mut _ as *mut c_void,
        log: Some(collect),
    };
    let dims = [1i32, 4, 4];
    // SAFETY: live objects made here, valid pointers, NULL where a test wants it.
    unsafe {
        let b = infer8_builder_create(&logger);
        let net = infer8_builder_create_network(b);
        let x = infer8_network_add_input(net, c"x".as_ptr(), 0, dims.as_ptr(), 3);
        assert!(!x.is_null());

        let e = fails!(infer8_network_add_activation(net, x, 99) => null_mut());
        assert!(e.contains("activation_type = 99"), "{e}");
        let e =
            fails!(infer8_network_add_input(net, c"y".as_ptr(), 7, dims.as_ptr(), 3) => null_mut());
        assert!(e.contains("dtype = 7"), "{e}");
        let e =
            fails!(infer8_network_add_input(net, c"y".as_ptr(), 0, dims.as_ptr(), 9) => null_mut());
        assert!(e.contains("nb_dims = 9"), "{e}");
        let e = fails!(infer8_network_add_input(net, c"y".as_ptr(), 0, null(), 3) => null_mut());
        assert!(e.contains("dims is NULL"), "{e}");
        fails!(infer8_network_add_convolution(net, x, 2, 3, 3, null(), 18, null(), 0) => null_mut());
        fails!(infer8_network_add_convolution(net, x, 2, 3, 3, [0.0f32].as_ptr(), -1, null(), 0) => null_mut());
        fails!(infer8_network_get_layer(net, 0) => null_mut());
        fails!(infer8_network_get_input(net, 1) => null_mut());
        fails!(infer8_network_get_input(net, -1) => null_mut());
        fails!(infer8_network_get_output(net, 0) => null_mut());

        let relu = infer8_network_add_activation(net, x, 0);
        assert!(!relu.is_null());
        let e = fails!(infer8_layer_set_stride(relu, 2, 2) => false);
        assert!(e.contains("has no stride"), "{e}");
        fails!(infer8_layer_set_alpha(null_mut(), 1.0) => false);
        fails!(infer8_layer_get_output(relu, 1) => null_mut());
        fails!(infer8_layer_get_input(relu, -1) => null_mut());
        fails!(infer8_layer_set_output_type(relu, 0, 42) => false);
        fails!(infer8_tensor_set_dynamic_range(x, 1.0, -1.0) => false);
        fails!(infer8_tensor_set_dynamic_range(x, f32::NAN, 1.0) => false);
        let e = fails!(infer8_network_unmark_output(net, x) => false);
        assert!(e.contains("not a network output"), "{e}");

        // A tensor of another network is refused.
        let other = infer8_builder_create_network(b);
        let e = fails!(infer8_network_mark_output(other, x) => false);
        assert!(e.contains("another network"), "{e}");
        infer8_network_destroy(other);

        // No output marked: the build fails with a logger message.
        fails!(infer8_builder_build_engine(b, net) => null_mut());
        fails!(infer8_builder_set_max_batch_size(b, 0) => false);

        let garbage = [0u8; 64];
        let rt = infer8_runtime_create(&logger);
        fails!(infer8_runtime_deserialize_engine(rt, garbage.as_ptr() as *const c_void, garbage.len()) => null_mut());
        fails!(infer8_runtime_deserialize_engine(rt, null(), 10) => null_mut());
        infer8_runtime_destroy(rt);

        infer8_network_destroy(net);
        infer8_builder_destroy(b);
    }
    let errors = log.iter().filter(|(s, _)| *s == 1).count();
    assert!(errors >= 20, "the logger got {errors} errors: {log:?}");
    assert!(
        log.iter()
            .any(|(_, m)| m.contains("infer8_network_add_activation: activation_type = 99")),
        "{log:?}"
    );
}
