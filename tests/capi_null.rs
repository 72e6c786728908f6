//! Every C function with NULL pointer arguments, bad enum values and out-of-range indices: it must
//! return its failure value, leave a message naming itself in `infer8_last_error()`, and not crash.

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
    let n = null_mut();
    let w = [1.0f32];
    let d = [1i32];
    fails!(infer8_builder_create(null()) => n);
    fails!(infer8_builder_create_network(n) => n);
    fails!(infer8_builder_set_max_batch_size(n, 1) => false);
    fails!(infer8_builder_get_max_batch_size(n) => -1);
    fails!(infer8_builder_set_max_workspace_size(n, 1) => false);
    fails!(infer8_builder_set_fp16_mode(n, true) => false);
    fails!(infer8_builder_set_int8_mode(n, true) => false);
    fails!(infer8_builder_set_strict_type_constraints(n, true) => false);
    fails!(infer8_builder_set_debug_sync(n, true) => false);
    fails!(infer8_builder_set_min_find_iterations(n, 1) => false);
    fails!(infer8_builder_set_average_find_iterations(n, 1) => false);
    fails!(infer8_builder_set_int8_calibrator(n, null()) => false);
    fails!(infer8_builder_build_engine(n, n) => n);

    fails!(infer8_network_add_input(n, S, 0, d.as_ptr(), 1) => n);
    fails!(infer8_network_mark_output(n, n) => false);
    fails!(infer8_network_unmark_output(n, n) => false);
    fails!(infer8_network_get_nb_layers(n) => -1);
    fails!(infer8_network_get_nb_inputs(n) => -1);
    fails!(infer8_network_get_nb_outputs(n) => -1);
    fails!(infer8_network_get_layer(n, 0) => n);
    fails!(infer8_network_get_input(n, 0) => n);
    fails!(infer8_network_get_output(n, 0) => n);
    fails!(infer8_network_find_tensor(n, S) => n);
    fails!(infer8_network_add_convolution(n, n, 1, 1, 1, w.as_ptr(), 1, null(), 0) => n);
    fails!(infer8_network_add_deconvolution(n, n, 1, 1, 1, w.as_ptr(), 1, null(), 0) => n);
    fails!(infer8_network_add_pooling(n, n, 0, 1, 1) => n);
    fails!(infer8_network_add_fully_connected(n, n, 1, w.as_ptr(), 1, null(), 0) => n);
    fails!(infer8_network_add_activation(n, n, 0) => n);
    fails!(infer8_network_add_parametric_relu(n, n, n) => n);
    fails!(infer8_network_add_lrn(n, n, 1, 1.0, 1.0, 1.0) => n);
    fails!(infer8_network_add_scale(n, n, 0, null(), 0, null(), 0, null(), 0) => n);
    fails!(infer8_network_add_softmax(n, n) => n);
    fails!(infer8_network_add_concatenation(n, null(), 1) => n);
    fails!(infer8_network_add_elementwise(n, n, n, 0) => n);
    fails!(infer8_network_add_unary(n, n, 0) => n);
    fails!(infer8_network_add_padding(n, n, 0, 0, 0, 0) => n);
    fails!(infer8_network_add_shuffle(n, n) => n);
    fails!(infer8_network_add_constant(n, d.as_ptr(), 1, w.as_ptr(), 1) => n);
    fails!(infer8_network_add_identity(n, n) => n);
    fails!(infer8_network_add_slice(n, n, d.as_ptr(), d.as_ptr(), d.as_ptr(), 1) => n);
    fails!(infer8_network_add_reduce(n, n, 0, 1, false) => n);
    fails!(infer8_network_add_topk(n, n, 0, 1, 1) => n);
    fails!(infer8_network_add_matrix_multiply(n, n, 0, n, 0) => n);
    fails!(infer8_network_add_gather(n, n, n, 0) => n);

    fails!(infer8_tensor_set_name(n, S) => false);
    fails!(infer8_tensor_get_name(n) => null());
    fails!(infer8_tensor_get_dims(n) => infer8_dims::INVALID);
    fails!(infer8_tensor_set_dims(n, d.as_ptr(), 1) => false);
    fails!(infer8_tensor_get_type(n) => -1);
    fails!(infer8_tensor_set_type(n, 0) => false);
    fails!(infer8_tensor_set_dynamic_range(n, -1.0, 1.0) => false);
    fails!(infer8_tensor_get_dynamic_range(n, null_mut(), null_mut()) => false);
    fails!(infer8_tensor_is_network_input(n) => false);
    fails!(infer8_tensor_is_network_output(n) => false);

    fails!(infer8_layer_get_type(n) => -1);
    fails!(infer8_layer_set_name(n, S) => false);
    fails!(infer8_layer_get_name(n) => null());
    fails!(infer8_layer_get_nb_inputs(n) => -1);
    fails!(infer8_layer_get_input(n, 0) => n);
    fails!(infer8_layer_set_input(n, 0, n) => false);
    fails!(infer8_layer_get_nb_outputs(n) => -1);
    fails!(infer8_layer_get_output(n, 0) => n);
    fails!(infer8_layer_set_precision(n, 0) => false);
    fails!(infer8_layer_get_precision(n) => -1);
    fails!(infer8_layer_set_output_type(n, 0, 0) => false);
    fails!(infer8_layer_get_output_type(n, 0) => -1);
    fails!(infer8_layer_set_stride(n, 1, 1) => false);
    fails!(infer8_layer_set_padding(n, 1, 1) => false);
    fails!(infer8_layer_set_pre_padding(n, 1, 1) => false);
    fails!(infer8_layer_set_post_padding(n, 1, 1) => false);
    fails!(infer8_layer_set_padding_mode(n, 0) => false);
    fails!(infer8_layer_set_dilation(n, 1, 1) => false);
    fails!(infer8_layer_set_groups(n, 1) => false);
    fails!(infer8_layer_set_kernel_size(n, 1, 1) => false);
    fails!(infer8_layer_set_nb_outputs(n, 1) => false);
    fails!(infer8_layer_set_kernel_weights(n, w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_bias_weights(n, w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_pooling_type(n, 0) => false);
    fails!(infer8_layer_set_window_size(n, 1, 1) => false);
    fails!(infer8_layer_set_blend_factor(n, 0.5) => false);
    fails!(infer8_layer_set_average_count_excludes_padding(n, true) => false);
    fails!(infer8_layer_set_activation_type(n, 0) => false);
    fails!(infer8_layer_set_alpha(n, 1.0) => false);
    fails!(infer8_layer_set_beta(n, 1.0) => false);
    fails!(infer8_layer_set_lrn_window(n, 1) => false);
    fails!(infer8_layer_set_lrn_k(n, 1.0) => false);
    fails!(infer8_layer_set_scale_mode(n, 0) => false);
    fails!(infer8_layer_set_shift(n, w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_scale(n, w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_power(n, w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_axes(n, 1) => false);
    fails!(infer8_layer_set_axis(n, 0) => false);
    fails!(infer8_layer_set_elementwise_operation(n, 0) => false);
    fails!(infer8_layer_set_unary_operation(n, 0) => false);
    fails!(infer8_layer_set_reduce_operation(n, 0) => false);
    fails!(infer8_layer_set_keep_dimensions(n, true) => false);
    fails!(infer8_layer_set_topk_operation(n, 0) => false);
    fails!(infer8_layer_set_k(n, 1) => false);
    fails!(infer8_layer_set_matrix_operation(n, 0, 0) => false);
    fails!(infer8_layer_set_first_transpose(n, d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_reshape_dimensions(n, d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_second_transpose(n, d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_weights(n, w.as_ptr(), 1) => false);
    fails!(infer8_layer_set_dimensions(n, d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_slice_start(n, d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_slice_size(n, d.as_ptr(), 1) => false);
    fails!(infer8_layer_set_slice_stride(n, d.as_ptr(), 1) => false);

    fails!(infer8_engine_get_nb_bindings(n) => -1);
    fails!(infer8_engine_get_binding_index(n, S) => -1);
    fails!(infer8_engine_get_binding_name(n, 0) => null());
    fails!(infer8_engine_binding_is_input(n, 0) => false);
    fails!(infer8_engine_get_binding_data_type(n, 0) => -1);
    fails!(infer8_engine_get_max_batch_size(n) => -1);
    fails!(infer8_engine_get_nb_layers(n) => -1);
    fails!(infer8_engine_serialize(n) => n);
    fails!(infer8_engine_create_execution_context(n) => n);
    fails!(infer8_engine_get_binding_dims(n, 0) => infer8_dims::INVALID);

    fails!(infer8_context_execute(n, 1, null()) => false);
    fails!(infer8_context_set_profiler(n, null()) => false);
    fails!(infer8_host_memory_data(n) => null());
    fails!(infer8_host_memory_size(n) => 0);
    fails!(infer8_runtime_create(null()) => n);
    fails!(infer8_runtime_deserialize_engine(n, null(), 0) => n);

    fails!(infer8_caffe_parser_parse(n, S, S, n, 0) => false);
    fails!(infer8_caffe_parser_find(n, n, S) => n);
    fails!(infer8_caffe_export_wts(null(), S, S, S) => false);

    // Destroying NULL is a no-op.
    // SAFETY: NULL is allowed.
    unsafe {
        infer8_builder_destroy(n);
        infer8_network_destroy(n);
        infer8_engine_destroy(n);
        infer8_context_destroy(n);
        infer8_runtime_destroy(n);
        infer8_host_memory_destroy(n);
        infer8_caffe_parser_destroy(n);
    }
}

extern "C" fn collect(user: *mut c_void, severity: i32, msg: *const c_char) {
    // SAFETY: `user` is the Vec the test passed; `msg` is valid during the call.
    let log = unsafe { &mut *(user as *mut Vec<(i32, String)>) };
    log.push((severity, unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned()));
}

/// Bad values on live objects: the message names the argument and reaches the logger too.
#[test]
fn bad_values_are_reported_to_the_logger() {
    let mut log: Vec<(i32, String)> = Vec::new();
    let logger = infer8_logger { user: &mut log as *mut _ as *mut c_void, log: Some(collect) };
    let dims = [1i32, 4, 4];
    // SAFETY: live objects made here, valid pointers, NULL where a test wants it.
    unsafe {
        let b = infer8_builder_create(&logger);
        let net = infer8_builder_create_network(b);
        let x = infer8_network_add_input(net, c"x".as_ptr(), 0, dims.as_ptr(), 3);
        assert!(!x.is_null());

        let e = fails!(infer8_network_add_activation(net, x, 99) => null_mut());
        assert!(e.contains("activation_type = 99"), "{e}");
        let e = fails!(infer8_network_add_input(net, c"y".as_ptr(), 7, dims.as_ptr(), 3) => null_mut());
        assert!(e.contains("dtype = 7"), "{e}");
        let e = fails!(infer8_network_add_input(net, c"y".as_ptr(), 0, dims.as_ptr(), 9) => null_mut());
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
    assert!(log.iter().any(|(_, m)| m.contains("infer8_network_add_activation: activation_type = 99")), "{log:?}");
}
