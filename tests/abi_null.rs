//! Every entry point survives bad input from C++: null pointers, foreign objects, bad indices, bad
//! enum values, bad weights, batch 0 and batch > max. Each call returns null/false/-1/empty and
//! logs an error naming the function, through the object's ILogger (or the process logger when
//! `this` itself is null).

mod abi_support;

use std::ffi::c_void;

use abi_support::{TestLogger, serial, vt};
use infer8::abi::boundary::guard;
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};
use infer8::abi::builder_config::IBuilderConfigVtbl;
use infer8::abi::caffe::{ICaffeParserVtbl, createNvCaffeParser_INTERNAL};
use infer8::abi::context::IExecutionContextVtbl;
use infer8::abi::dims::{Dims, RawWeights};
use infer8::abi::engine::ICudaEngineVtbl;
use infer8::abi::layer::ILayerVtbl;
use infer8::abi::network::INetworkDefinitionVtbl;
use infer8::abi::plugin::{IPluginRegistryVtbl, getPluginRegistry, initLibNvInferPlugins};
use infer8::abi::runtime::{IRuntimeVtbl, createInferRuntime_INTERNAL, getInferLibVersion};
use infer8::abi::tensor::ITensorVtbl;
use infer8::logger::{Logger, Severity};

fn dims(v: &[i32]) -> Dims {
    Dims::from_values(v)
}

fn weights(values: &[f32]) -> RawWeights {
    RawWeights {
        type_: 0,
        values: values.as_ptr().cast(),
        count: values.len() as i64,
    }
}

#[test]
fn creation_without_a_logger_fails() {
    let _guard = serial();
    unsafe {
        assert!(createInferBuilder_INTERNAL(std::ptr::null_mut(), 5105).is_null());
        assert!(createInferRuntime_INTERNAL(std::ptr::null_mut(), 5105).is_null());
    }
    assert_eq!(getInferLibVersion(), 5105);
    assert!(unsafe { initLibNvInferPlugins(std::ptr::null_mut(), std::ptr::null()) });
}

#[test]
fn network_rejects_bad_arguments() {
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 7000);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let other = (b.createNetwork)(builder.cast());
        let n: &INetworkDefinitionVtbl = vt(net);

        assert!((n.addInput)(net, std::ptr::null(), 0, dims(&[1, 4, 4])).is_null());
        logger.expect_error("INetworkDefinition::addInput: argument `name` is null");
        assert!((n.addInput)(net, c"x".as_ptr(), 99, dims(&[1, 4, 4])).is_null());
        logger.expect_error("not a valid DataType");
        assert!(
            (n.addInput)(
                net,
                c"x".as_ptr(),
                0,
                Dims {
                    nb_dims: 9,
                    ..Dims::default()
                }
            )
            .is_null()
        );
        logger.expect_error("nbDims 9");
        assert!((n.addInput)(net, c"x".as_ptr(), 0, dims(&[1, -4, 4])).is_null());
        logger.expect_error("-4");

        let x = (n.addInput)(net, c"x".as_ptr(), 0, dims(&[1, 4, 4]));
        assert!(!x.is_null());
        logger.expect_no_error();
        let y = (vt::<INetworkDefinitionVtbl, _>(other).addInput)(
            other,
            c"y".as_ptr(),
            0,
            dims(&[1, 4, 4]),
        );

        let w = [0.1f32; 9];
        let none = RawWeights::EMPTY;
        assert!(
            (n.addConvolution)(
                net,
                std::ptr::null_mut(),
                1,
                dims(&[3, 3]),
                weights(&w),
                none
            )
            .is_null()
        );
        logger.expect_error("argument `input` is null");
        assert!((n.addConvolution)(net, y, 1, dims(&[3, 3]), weights(&w), none).is_null());
        logger.expect_error("belongs to another network");
        assert!((n.addConvolution)(net, x, 0, dims(&[3, 3]), weights(&w), none).is_null());
        logger.expect_error("nbOutputMaps must be positive");
        let negative = RawWeights {
            count: -1,
            ..weights(&w)
        };
        assert!((n.addConvolution)(net, x, 1, dims(&[3, 3]), negative, none).is_null());
        logger.expect_error("negative");
        let dangling = RawWeights {
            values: std::ptr::null(),
            ..weights(&w)
        };
        assert!((n.addConvolution)(net, x, 1, dims(&[3, 3]), dangling, none).is_null());
        logger.expect_error("values is null");
        let int8 = RawWeights {
            type_: 2,
            ..weights(&w)
        };
        assert!((n.addConvolution)(net, x, 1, dims(&[3, 3]), int8, none).is_null());
        logger.expect_error("Int8 weights are not accepted");
        assert!((n.addConvolution)(net, x, 1, dims(&[3]), weights(&w), none).is_null());
        logger.expect_error("must have 2 dimensions");
        assert!((n.addActivation)(net, x, 42).is_null());
        logger.expect_error("42 is not a valid ActivationType");
        assert!((n.addPooling)(net, x, 0, dims(&[9, 9])).is_null());
        logger.expect_error("addPooling");
        assert!((n.addConcatenation)(net, std::ptr::null(), 2).is_null());
        logger.expect_error("argument `inputs` is null");
        assert!((n.addRNNv2)(net, x, 1, 1, 1, 0).is_null());
        logger.expect_error("not supported");

        assert!((n.getLayer)(net, -1).is_null());
        logger.expect_error("layer index -1 is out of range");
        assert!((n.getInput)(net, 5).is_null());
        logger.expect_error("input index 5");

        // Layer and tensor methods.
        let relu = (n.addActivation)(net, x, 0);
        let l: &ILayerVtbl = vt(relu);
        assert!((l.getOutput)(relu.cast(), 1).is_null());
        logger.expect_error("IActivationLayer::getOutput");
        (l.setInput)(relu.cast(), 0, std::ptr::null_mut());
        logger.expect_error("IActivationLayer::setInput");
        (l.setPrecision)(relu.cast(), 17);
        logger.expect_error("17 is not a valid DataType");
        let t: &ITensorVtbl = vt(x);
        (t.setLocation)(x, 5);
        logger.expect_error("TensorLocation");
        assert!(!(t.setDynamicRange)(x, 1.0, -1.0));
        logger.expect_error("ITensor::setDynamicRange");
        // Destructor slots of objects the network owns refuse to free them.
        (t.dtor_deleting)(x);
        logger.expect_error("owned by their network");
        assert_eq!((t.getType)(x), 0);

        // Building: a foreign or null network, or one without outputs.
        assert!((b.buildCudaEngine)(builder.cast(), std::ptr::null_mut()).is_null());
        logger.expect_error("IBuilder::buildCudaEngine: argument `network` is null");
        assert!((b.buildCudaEngine)(builder.cast(), net).is_null());
        logger.expect_error("no outputs");
        (b.setMaxBatchSize)(builder.cast(), 0);
        logger.expect_error("batchSize must be positive");
        (b.setDefaultDeviceType)(builder.cast(), 3);
        logger.expect_error("3 is not a valid DeviceType");
        assert!((b.buildEngineWithConfig)(builder.cast(), net, std::ptr::null_mut()).is_null());
        logger.expect_error("argument `config` is null");
        let config = (b.createBuilderConfig)(builder.cast());
        let cv: &IBuilderConfigVtbl = vt(config);
        (cv.setFlag)(config.cast(), 9);
        logger.expect_error("9 is not a valid BuilderFlag");
        (cv.setFlag)(config.cast(), 5);
        logger.expect_error("kREFIT");
        assert_eq!((cv.getFlags)(config.cast()), 0);
        assert_eq!(
            (cv.addOptimizationProfile)(config.cast(), std::ptr::null()),
            -1
        );
        logger.expect_error("argument `profile` is null");
        assert!((b.createNetworkV2)(builder.cast(), 2).is_null());
        logger.expect_error("createNetworkV2 flags 0x2");
        (cv.destroy)(config.cast());

        (n.destroy)(net);
        (vt::<INetworkDefinitionVtbl, _>(other).destroy)(other);
        (b.destroy)(builder.cast());
    }
}

#[test]
fn engine_and_context_reject_bad_arguments() {
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let n: &INetworkDefinitionVtbl = vt(net);
        let x = (n.addInput)(net, c"x".as_ptr(), 0, dims(&[2, 3, 3]));
        let relu = (n.addActivation)(net, x, 0);
        (n.markOutput)(net, (vt::<ILayerVtbl, _>(relu).getOutput)(relu.cast(), 0));
        (b.setMaxBatchSize)(builder.cast(), 2);
        let engine = (b.buildCudaEngine)(builder.cast(), net);
        logger.expect_no_error();
        let e: &ICudaEngineVtbl = vt(engine);

        assert_eq!((e.getBindingIndex)(engine, std::ptr::null()), -1);
        logger.expect_error("ICudaEngine::getBindingIndex: argument `name` is null");
        assert_eq!((e.getBindingIndex)(engine, c"nope".as_ptr()), -1);
        logger.expect_no_error();
        assert!((e.getBindingName)(engine, 2).is_null());
        logger.expect_error("binding index 2 is out of range");
        assert_eq!((e.getBindingDimensions)(engine, -1).nb_dims, 0);
        logger.expect_error("getBindingDimensions");

        let ctx = (e.createExecutionContext)(engine);
        let c: &IExecutionContextVtbl = vt(ctx);
        let input = [1f32; 36];
        let mut output = [0f32; 36];
        let mut bindings = [
            input.as_ptr().cast_mut().cast::<c_void>(),
            output.as_mut_ptr().cast(),
        ];
        assert!(!(c.execute)(ctx, 0, bindings.as_mut_ptr()));
        logger.expect_error("batchSize must be positive");
        assert!(!(c.execute)(ctx, 3, bindings.as_mut_ptr()));
        logger.expect_error("exceeds the engine's maximum batch size 2");
        assert!(!(c.execute)(ctx, 1, std::ptr::null_mut()));
        logger.expect_error("argument `bindings` is null");
        let mut with_null = [
            input.as_ptr().cast_mut().cast::<c_void>(),
            std::ptr::null_mut(),
        ];
        assert!(!(c.execute)(ctx, 1, with_null.as_mut_ptr()));
        logger.expect_error("binding 1");
        let mut aliased = [
            output.as_mut_ptr().cast::<c_void>(),
            output.as_mut_ptr().cast(),
        ];
        assert!(!(c.enqueue)(
            ctx,
            1,
            aliased.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut()
        ));
        logger.expect_error("overlaps");
        assert!((c.execute)(ctx, 2, bindings.as_mut_ptr()));
        logger.expect_no_error();
        assert!(!(c.executeV2)(ctx, bindings.as_mut_ptr()));
        logger.expect_error("implicit-batch");

        // A null `this` is caught before anything is touched; the process logger hears of it.
        assert!(!(c.execute)(std::ptr::null_mut(), 1, bindings.as_mut_ptr()));
        logger.expect_error("IExecutionContext::execute: `this` is null");

        (c.destroy)(ctx);
        (e.destroy)(engine);
        (n.destroy)(net);
        (b.destroy)(builder.cast());
    }
}

#[test]
fn runtime_rejects_bad_engine_files() {
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let runtime = createInferRuntime_INTERNAL(logger.ptr(), 5105);
        let r: &IRuntimeVtbl = vt(runtime);
        assert!(
            (r.deserializeCudaEngine)(runtime.cast(), std::ptr::null(), 10, std::ptr::null_mut())
                .is_null()
        );
        logger.expect_error("argument `blob` is null");
        let junk = [7u8; 64];
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
        (r.destroy)(runtime.cast());
    }
}

#[test]
fn parser_and_registry_reject_bad_arguments() {
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let parser = createNvCaffeParser_INTERNAL();
        let p: &ICaffeParserVtbl = vt(parser);
        assert!((p.parse)(parser.cast(), std::ptr::null(), std::ptr::null(), net, 0).is_null());
        logger.expect_error("ICaffeParser::parse: argument `deploy` is null");
        assert!(
            (p.parse)(
                parser.cast(),
                c"/nonexistent.prototxt".as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
                0
            )
            .is_null()
        );
        logger.expect_error("argument `network`");
        assert!(
            (p.parse)(
                parser.cast(),
                c"/nonexistent.prototxt".as_ptr(),
                std::ptr::null(),
                net,
                0
            )
            .is_null()
        );
        logger.expect_error("nonexistent.prototxt");
        assert!(
            (p.parseBinaryProto)(parser.cast(), c"/nonexistent.binaryproto".as_ptr()).is_null()
        );
        logger.expect_error("nonexistent.binaryproto");
        (p.destroy)(parser.cast());

        let registry = getPluginRegistry();
        let reg: &IPluginRegistryVtbl = vt(registry);
        let mut count = -1;
        assert!((reg.getPluginCreatorList)(registry.cast(), &mut count).is_null());
        assert_eq!(count, 0);
        assert!((reg.getPluginCreatorList)(registry.cast(), std::ptr::null_mut()).is_null());
        logger.expect_error("numCreators");
        assert!(!(reg.registerCreator)(
            registry.cast(),
            std::ptr::null_mut(),
            c"".as_ptr()
        ));
        logger.expect_error("argument `creator` is null");

        (vt::<INetworkDefinitionVtbl, _>(net).destroy)(net);
        (b.destroy)(builder.cast());
    }
}

#[test]
fn the_boundary_catches_panics() {
    struct Record(std::sync::Mutex<Vec<(Severity, String)>>);
    impl Logger for Record {
        fn log(&self, s: Severity, m: &str) {
            self.0.lock().unwrap().push((s, m.to_string()));
        }
    }
    let log = Record(std::sync::Mutex::new(Vec::new()));
    let r = guard("ITest::boom", &log, 7, || -> infer8::error::Result<i32> {
        panic!("kaboom")
    });
    assert_eq!(r, 7);
    let m = log.0.lock().unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].0, Severity::InternalError);
    assert!(
        m[0].1.contains("ITest::boom") && m[0].1.contains("kaboom"),
        "{}",
        m[0].1
    );
}
