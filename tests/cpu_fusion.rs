//! CPU layer fusion (engine/fusion.rs): a convolution or fully connected layer with the ReLU
//! after it (and a convolution with a 2x2 max pooling after that) runs as one step, and gives the
//! bits of the layers run apart. The unfused run is
//! `ExecutionContext::run` with an observer (calibration's path, which never fuses); the fused
//! one is `execute`. Both must agree exactly in FP32, FP16 and INT8, and `IProfiler` must hear
//! the fused steps as "conv + relu + pool", as TensorRT names them. Pairs that must not fuse (the
//! convolution's output read twice, or marked as a network output) still give the same bits.

mod common;

use std::sync::{Arc, Mutex};

use common::Rng;
use infer8::builder::{BuilderConfig, build_engine};
use infer8::engine::context::{HostBinding, Profiler};
use infer8::engine::{Engine, ExecutionContext};
use infer8::logger::NullLogger;
use infer8::network::{ConvParams, LayerKind, Network, PoolParams, TensorId};
use infer8::types::{ActivationType, DataType, ElementWiseOperation, PoolingType, Weights, volume};

const BATCH: usize = 3;

fn relu(net: &mut Network, x: TensorId, name: &str) -> TensorId {
    let kind = LayerKind::Activation {
        kind: ActivationType::Relu,
        alpha: 0.0,
        beta: 0.0,
    };
    let l = net.add_layer(kind, &[x]).unwrap();
    net.layers[l].name = name.into();
    net.layers[l].outputs[0]
}

fn conv(net: &mut Network, rng: &mut Rng, x: TensorId, c: usize, k: usize, name: &str) -> TensorId {
    let w = Weights::new(rng.vec(k * c * 9, -0.5, 0.5));
    let mut p = ConvParams::new(k, [3, 3], w, Weights::new(rng.vec(k, -0.3, 0.3)));
    p.pre_padding = [1, 1];
    p.post_padding = [1, 1];
    let l = net.add_layer(LayerKind::Convolution(p), &[x]).unwrap();
    net.layers[l].name = name.into();
    net.layers[l].outputs[0]
}

fn fc(net: &mut Network, rng: &mut Rng, x: TensorId, k: usize, n: usize, name: &str) -> TensorId {
    let kind = LayerKind::FullyConnected {
        nb_outputs: n,
        kernel: Weights::new(rng.vec(n * k, -0.2, 0.2)),
        bias: Weights::new(rng.vec(n, -0.3, 0.3)),
    };
    let l = net.add_layer(kind, &[x]).unwrap();
    net.layers[l].name = name.into();
    net.layers[l].outputs[0]
}

fn pool(net: &mut Network, x: TensorId, name: &str) -> TensorId {
    let kind = LayerKind::Pooling(PoolParams::new(PoolingType::Max, [2, 2]));
    let l = net.add_layer(kind, &[x]).unwrap();
    net.layers[l].name = name.into();
    net.layers[l].outputs[0]
}

/// conv1 → relu1 → pool1 (all three fuse); conv2 → relu2 and conv2 → sum (conv2's output read
/// twice: no fusion); conv3 → pool3 (fuse); conv4 → relu4 with conv4's output also a network
/// output (no fusion); fc1 → relu5 (fuse); fc2.
fn network(rng: &mut Rng) -> Network {
    let mut net = Network::new();
    let x = net.add_input("data", DataType::Float, &[3, 8, 8]).unwrap();
    let c1 = conv(&mut net, rng, x, 3, 4, "conv1");
    let r1 = relu(&mut net, c1, "relu1");
    let p1 = pool(&mut net, r1, "pool1");
    let c2 = conv(&mut net, rng, p1, 4, 4, "conv2");
    let r2 = relu(&mut net, c2, "relu2");
    let sum = LayerKind::ElementWise {
        op: ElementWiseOperation::Sum,
    };
    let s = net.add_layer(sum, &[r2, c2]).unwrap();
    let s = net.layers[s].outputs[0];
    let c3 = conv(&mut net, rng, s, 4, 4, "conv3");
    let p3 = pool(&mut net, c3, "pool3");
    let c4 = conv(&mut net, rng, p3, 4, 4, "conv4");
    let r4 = relu(&mut net, c4, "relu4");
    let f1 = fc(&mut net, rng, r4, 4 * 4, 16, "fc1");
    let r5 = relu(&mut net, f1, "relu5");
    let f2 = fc(&mut net, rng, r5, 16, 5, "fc2");
    net.mark_output(c4).unwrap();
    net.mark_output(f2).unwrap();
    net
}

struct Labels(Arc<Mutex<Vec<String>>>);

impl Profiler for Labels {
    fn report_layer_time(&mut self, layer: &str, _ms: f32) {
        self.0.lock().unwrap().push(layer.to_string());
    }
}

/// Every output binding's bytes: fused (`execute`) or unfused (`run`, observing).
fn outputs(engine: &Arc<Engine>, input: &[u8], fused: bool) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut ctx = ExecutionContext::new(Arc::clone(engine)).unwrap();
    let labels = Arc::new(Mutex::new(Vec::new()));
    ctx.set_profiler(Some(Box::new(Labels(Arc::clone(&labels)))));
    let mut outs: Vec<Vec<u8>> = engine
        .bindings
        .iter()
        .filter(|b| !b.is_input)
        .map(|b| vec![0u8; BATCH * volume(&b.shape) * 4])
        .collect();
    let mut views = vec![HostBinding::Input(input)];
    views.extend(outs.iter_mut().map(|o| HostBinding::Output(o)));
    if fused {
        ctx.execute(BATCH, &mut views).unwrap();
    } else {
        ctx.run(BATCH, &mut views, &mut |_, _| {}).unwrap();
    }
    drop(views);
    let labels = labels.lock().unwrap().clone();
    (outs, labels)
}

#[test]
fn fused_steps_give_the_bits_of_the_layers_run_apart() {
    let mut rng = Rng::new(7);
    let mut net = network(&mut rng);
    let input: Vec<f32> = rng.vec(BATCH * 3 * 64, -1.0, 1.0);
    let input: Vec<u8> = input.iter().flat_map(|v| v.to_ne_bytes()).collect();
    // INT8 ranges: generous fixed ones, so that every tensor is INT8 where the builder can.
    for t in &mut net.tensors {
        t.dynamic_range = Some((-4.0, 4.0));
    }
    for (fp16, int8) in [(false, false), (true, false), (false, true)] {
        let config = BuilderConfig {
            max_batch_size: BATCH,
            fp16,
            int8,
            ..Default::default()
        };
        let engine = Arc::new(build_engine(&net, &config, None, &NullLogger).unwrap());
        let (fused, labels) = outputs(&engine, &input, true);
        let (apart, apart_labels) = outputs(&engine, &input, false);
        assert_eq!(
            fused, apart,
            "fp16 {fp16} int8 {int8}: fused outputs differ"
        );
        assert!(fused.iter().flatten().any(|&b| b != 0));
        for fused_label in ["conv1 + relu1 + pool1", "conv3 + pool3", "fc1 + relu5"] {
            assert!(labels.iter().any(|l| l == fused_label), "{labels:?}");
        }
        for apart in ["relu1", "pool1", "relu2", "pool3", "relu4", "relu5"] {
            let want = usize::from(apart == "relu2" || apart == "relu4");
            let n = labels.iter().filter(|l| *l == apart).count();
            assert_eq!(n, want, "{apart} in {labels:?}");
            assert!(apart_labels.iter().any(|l| l == apart), "{apart_labels:?}");
        }
    }
}
