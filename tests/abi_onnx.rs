//! Issue 9 through the C++ ABI: `createNvOnnxParser_INTERNAL` on an explicit-batch network,
//! `IParser` errors (code, node, description naming the model and field) for bad input, and a
//! good model parsed, built with an `IBuilderConfig` and run with `executeV2`.

mod abi_support;

use std::ffi::{CStr, c_void};

use abi_support::{TestLogger, serial, vt};
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};
use infer8::abi::builder_config::IBuilderConfigVtbl;
use infer8::abi::context::IExecutionContextVtbl;
use infer8::abi::engine::ICudaEngineVtbl;
use infer8::abi::network::INetworkDefinitionVtbl;
use infer8::abi::onnx::{IParserErrorVtbl, IParserVtbl, createNvOnnxParser_INTERNAL};
use infer8::parser::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorShapeProto, TypeProto,
    ValueInfoProto, tensor_shape_proto, type_proto,
};
use prost::Message;

fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| tensor_shape_proto::Dimension {
            value: Some(tensor_shape_proto::dimension::Value::DimValue(d)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `y = op(x)` on a [2, 3] input.
fn model(op: &str) -> Vec<u8> {
    ModelProto {
        ir_version: Some(7),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        graph: Some(GraphProto {
            name: Some("g".into()),
            node: vec![NodeProto {
                op_type: Some(op.into()),
                name: Some("the_node".into()),
                input: vec!["x".into()],
                output: vec!["y".into()],
                ..Default::default()
            }],
            input: vec![value("x", &[2, 3])],
            output: vec![value("y", &[2, 3])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

unsafe fn error_desc(parser: *mut c_void, i: i32) -> (i32, i32, String) {
    let p: &IParserVtbl = vt(parser);
    let e = unsafe { (p.getError)(parser.cast(), i) };
    let ev: &IParserErrorVtbl = vt(e.cast_mut());
    let desc = unsafe { CStr::from_ptr((ev.desc)(e)) }
        .to_string_lossy()
        .into_owned();
    unsafe { ((ev.code)(e), (ev.node)(e), desc) }
}

#[test]
fn onnx_parser_reports_bad_input_and_runs_a_good_model() {
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 7000);
        let b: &IBuilderVtbl = vt(builder);

        // An implicit-batch network is refused, as TensorRT 7's parser did.
        let implicit = (b.createNetwork)(builder.cast());
        let parser = createNvOnnxParser_INTERNAL(implicit.cast(), logger.ptr(), 100);
        let p: &IParserVtbl = vt(parser);
        let bytes = model("Relu");
        assert!(!(p.parse)(
            parser.cast(),
            bytes.as_ptr().cast(),
            bytes.len()
        ));
        logger.expect_error("createNetworkV2(1U << kEXPLICIT_BATCH)");
        (p.destroy)(parser.cast());
        (vt::<INetworkDefinitionVtbl, _>(implicit).destroy)(implicit);

        let net = (b.createNetworkV2)(builder.cast(), 1);
        let n: &INetworkDefinitionVtbl = vt(net);
        assert!(!(n.hasImplicitBatchDimension)(net));
        let parser = createNvOnnxParser_INTERNAL(net.cast(), logger.ptr(), 100);

        // Not a model, a missing file, an unsupported operator, a null buffer.
        let junk = [0xffu8; 16];
        assert!(!(p.parse)(parser.cast(), junk.as_ptr().cast(), junk.len()));
        logger.expect_error("not a valid ONNX ModelProto");
        let (code, node, _) = error_desc(parser, 0);
        assert_eq!((code, node), (3, -1));
        assert!(!(p.parseFromFile)(
            parser.cast(),
            c"/nonexistent/m.onnx".as_ptr(),
            2
        ));
        logger.expect_error("/nonexistent/m.onnx");
        let bad = model("NoSuchOp");
        assert!(!(p.parse)(parser.cast(), bad.as_ptr().cast(), bad.len()));
        logger.expect_error("node 0 'the_node' (NoSuchOp)");
        assert_eq!((p.getNbErrors)(parser.cast()), 3);
        let (code, node, desc) = error_desc(parser, 2);
        assert_eq!((code, node), (8, 0));
        assert!(
            desc.contains("operator NoSuchOp is not supported"),
            "{desc}"
        );
        assert!(!(p.parse)(parser.cast(), std::ptr::null(), 4));
        logger.expect_error("argument `serialized_onnx_model` is null");
        assert!((p.getError)(parser.cast(), 7).is_null());
        logger.expect_error("error index 7 is out of range");
        (p.clearErrors)(parser.cast());
        assert_eq!((p.getNbErrors)(parser.cast()), 0);
        assert!((p.supportsOperator)(parser.cast(), c"Conv".as_ptr()));
        assert!(!(p.supportsOperator)(parser.cast(), c"NoSuchOp".as_ptr()));

        // The failed parse left the network empty of layers; a fresh network takes the good model.
        (p.destroy)(parser.cast());
        (n.destroy)(net);
        let net = (b.createNetworkV2)(builder.cast(), 1);
        let parser = createNvOnnxParser_INTERNAL(net.cast(), logger.ptr(), 100);
        let good = model("Relu");
        assert!((p.parse)(parser.cast(), good.as_ptr().cast(), good.len()));
        logger.expect_no_error();
        assert_eq!((n.getNbInputs)(net), 1);
        assert_eq!((n.getNbOutputs)(net), 1);

        let config = (b.createBuilderConfig)(builder.cast());
        let c: &IBuilderConfigVtbl = vt(config);
        (c.setFlag)(config.cast(), 0);
        assert!((c.getFlag)(config.cast(), 0));
        let engine = (b.buildEngineWithConfig)(builder.cast(), net, config);
        logger.expect_no_error();
        let e: &ICudaEngineVtbl = vt(engine);
        assert!(!(e.hasImplicitBatchDimension)(engine));
        assert_eq!((e.getBindingDimensions)(engine, 0).nb_dims, 2);
        let ctx = (e.createExecutionContext)(engine);
        let cx: &IExecutionContextVtbl = vt(ctx);
        let input = [-1f32, 2.0, -3.0, 4.0, -5.0, 6.0];
        let mut output = [9f32; 6];
        let mut bindings = [
            input.as_ptr().cast_mut().cast::<c_void>(),
            output.as_mut_ptr().cast(),
        ];
        assert!((cx.executeV2)(ctx, bindings.as_mut_ptr()));
        logger.expect_no_error();
        assert_eq!(output, [0.0, 2.0, 0.0, 4.0, 0.0, 6.0]);

        (cx.destroy)(ctx);
        (e.destroy)(engine);
        (c.destroy)(config.cast());
        (p.destroy)(parser.cast());
        (n.destroy)(net);
        (b.destroy)(builder.cast());
    }
}

/// `IOptimizationProfile`: dimensions round-trip per selector, validity follows min <= opt <= max,
/// and a NULL input name, a selector outside kMIN..kMAX and a memory target outside [0, 1] are
/// refused with an error.
#[test]
fn optimization_profile_checks_its_arguments() {
    use infer8::abi::dims::Dims;
    use infer8::abi::profile::IOptimizationProfileVtbl;
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 7000);
        let b: &IBuilderVtbl = vt(builder);
        let profile = (b.createOptimizationProfile)(builder.cast());
        let p: &IOptimizationProfileVtbl = vt(profile);
        let name = c"x".as_ptr();
        for (sel, dims) in [(0, [1, 3]), (1, [2, 3]), (2, [4, 3])] {
            assert!((p.setDimensions)(
                profile.cast(),
                name,
                sel,
                Dims::from_values(&dims)
            ));
        }
        let got = (p.getDimensions)(profile.cast(), name, 1);
        assert_eq!((got.nb_dims, got.d[0], got.d[1]), (2, 2, 3));
        assert!((p.isValid)(profile.cast()));
        // opt above max: no longer valid.
        assert!((p.setDimensions)(
            profile.cast(),
            name,
            1,
            Dims::from_values(&[8, 3])
        ));
        assert!(!(p.isValid)(profile.cast()));
        logger.expect_no_error();

        assert!(!(p.setDimensions)(
            profile.cast(),
            std::ptr::null(),
            0,
            Dims::from_values(&[1])
        ));
        logger.expect_error("inputName");
        assert!(!(p.setDimensions)(
            profile.cast(),
            name,
            3,
            Dims::from_values(&[1, 3])
        ));
        logger.expect_error("3 is not an OptProfileSelector");
        assert_eq!((p.getDimensions)(profile.cast(), name, -1).nb_dims, -1);
        logger.expect_error("-1 is not an OptProfileSelector");
        assert!(!(p.setExtraMemoryTarget)(profile.cast(), 2.0));
        logger.expect_error("outside [0, 1]");
        assert!((p.setExtraMemoryTarget)(profile.cast(), 0.5));
        assert_eq!((p.getExtraMemoryTarget)(profile.cast()), 0.5);
        (b.destroy)(builder.cast());
    }
}

/// `supportsModel` with a null collection (what the header's inline wrapper passes) keeps the runs
/// of nodes for `infer8_onnx_parser_subgraph`, which the wrapper reads to fill its vector.
#[test]
fn supports_model_keeps_the_runs_of_nodes_for_the_header() {
    use infer8::abi::onnx::infer8_onnx_parser_subgraph;
    let _g = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 7000);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetworkV2)(builder.cast(), 1);
        let parser = createNvOnnxParser_INTERNAL(net.cast(), logger.ptr(), 100);
        let p: &IParserVtbl = vt(parser);
        let (mut nodes, mut supported) = (std::ptr::null::<usize>(), false);
        for (op, ok) in [("Relu", true), ("NoSuchOp", false)] {
            let bytes = model(op);
            let all = (p.supportsModel)(
                parser.cast(),
                bytes.as_ptr().cast(),
                bytes.len(),
                std::ptr::null_mut(),
            );
            assert_eq!(all, ok, "{op}");
            assert_eq!(
                infer8_onnx_parser_subgraph(parser, 0, &mut nodes, &mut supported),
                1
            );
            assert_eq!((*nodes, supported), (0, ok), "{op}");
            assert_eq!(
                infer8_onnx_parser_subgraph(parser, 1, &mut nodes, &mut supported),
                -1
            );
        }
        logger.expect_no_error();
        let n = infer8_onnx_parser_subgraph(parser, 0, std::ptr::null_mut(), &mut supported);
        assert_eq!(n, -1);
        logger.expect_error("argument `nodes` is null");
        (p.destroy)(parser.cast());
        (vt::<INetworkDefinitionVtbl, _>(net).destroy)(net);
        (b.destroy)(builder.cast());
    }
    // Not a parser: refused before anything else is read.
    let other = [0usize; 4];
    let (mut nodes, mut supported) = (std::ptr::null::<usize>(), false);
    let n = unsafe {
        infer8_onnx_parser_subgraph(other.as_ptr().cast(), 0, &mut nodes, &mut supported)
    };
    assert_eq!(n, -1);
}
