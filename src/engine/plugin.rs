//! Plugin layers in an engine's life: the builder gives the engine its own plugin objects and
//! configures them, every engine initializes them when it is made (built, or read from a file), and
//! they terminate when the engine's last holder drops them (`network::plugin`).

use super::Engine;
use crate::error::{Error, Result};
use crate::network::{LayerKind, Network};

/// Replaces each plugin of `net` (a copy the builder made) by the engine's own object.
pub fn instantiate(net: &mut Network) -> Result<()> {
    for layer in &mut net.layers {
        if let LayerKind::Plugin(p) = &mut layer.kind {
            *p = p
                .for_engine()
                .map_err(|e| Error::Network(format!("plugin layer '{}': {e}", layer.name)))?;
        }
    }
    Ok(())
}

/// Gets every plugin layer ready to run: `configure` first when the builder made the engine (a
/// deserialized plugin restores its configuration from its own bytes, as in TensorRT), then
/// `initialize`.
pub fn start(engine: &Engine, configure: bool) -> Result<()> {
    let net = &engine.network;
    for &l in &engine.order {
        let layer = &net.layers[l];
        let LayerKind::Plugin(p) = &layer.kind else {
            continue;
        };
        let shapes = |ids: &[usize]| -> Vec<_> {
            ids.iter().map(|&t| net.tensors[t].shape.clone()).collect()
        };
        let run = || {
            if configure {
                p.plugin.configure(
                    &shapes(&layer.inputs),
                    &shapes(&layer.outputs),
                    engine.max_batch_size,
                )?;
            }
            p.plugin.initialize(engine.max_batch_size)
        };
        run().map_err(|e| Error::Runtime(format!("plugin layer '{}': {e}", layer.name)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::any::Any;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI32, Ordering};

    use crate::builder::{BuilderConfig, build_engine};
    use crate::engine::context::{ExecutionContext, HostBinding, f32_bytes};
    use crate::engine::{Engine, Precision};
    use crate::error::Result;
    use crate::logger::NullLogger;
    use crate::network::plugin::{Plugin, PluginLayer, PluginOrigin};
    use crate::network::{ConvParams, LayerKind, Network};
    use crate::types::{DataType, Shape, Weights};

    /// `y = x³` (not expressible by INT8 or FP16 kernels), counting live initializations.
    struct Cube(Arc<AtomicI32>);

    impl Plugin for Cube {
        fn nb_outputs(&self) -> Result<usize> {
            Ok(1)
        }
        fn origin(&self) -> Result<PluginOrigin> {
            Ok(PluginOrigin::Factory)
        }
        fn output_shapes(&self, inputs: &[Shape]) -> Result<Vec<Shape>> {
            Ok(vec![inputs[0].clone()])
        }
        fn for_engine(&self) -> Result<Arc<dyn Plugin>> {
            Ok(Arc::new(Cube(self.0.clone())))
        }
        fn configure(&self, _: &[Shape], _: &[Shape], _: usize) -> Result<()> {
            Ok(())
        }
        fn initialize(&self, _: usize) -> Result<()> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        fn workspace_size(&self) -> usize {
            0
        }
        unsafe fn enqueue(
            &self,
            batch: usize,
            inputs: &[*const f32],
            outputs: &[*mut f32],
            _: *mut u8,
            _: u64,
        ) -> Result<()> {
            let n = batch * 2 * 4 * 4;
            // SAFETY: the caller's contract: `batch` items of [2, 4, 4].
            let (x, y) = unsafe {
                (
                    std::slice::from_raw_parts(inputs[0], n),
                    std::slice::from_raw_parts_mut(outputs[0], n),
                )
            };
            for (y, x) in y.iter_mut().zip(x) {
                *y = x * x * x;
            }
            Ok(())
        }
        fn serialize(&self) -> Result<Vec<u8>> {
            Ok(Vec::new())
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    impl Drop for Cube {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn conv(k: usize) -> LayerKind {
        let w = (0..k * 2 * 9).map(|i| ((i * 7) % 11) as f32 * 0.05 - 0.25);
        LayerKind::Convolution(ConvParams {
            pre_padding: [1, 1],
            post_padding: [1, 1],
            ..ConvParams::new(
                k,
                [3, 3],
                Weights::new(w.collect()),
                Weights::new(vec![0.1; k]),
            )
        })
    }

    /// data → conv → cube (plugin) → conv → out, with dynamic ranges on every tensor.
    fn network(live: &Arc<AtomicI32>) -> Network {
        let mut net = Network::new();
        let x = net.add_input("data", DataType::Float, &[2, 4, 4]).unwrap();
        let a = net.add_layer(conv(2), &[x]).unwrap();
        let a = net.layers[a].outputs[0];
        // The application's object is alive while the network holds it: one "initialization".
        live.fetch_add(1, Ordering::SeqCst);
        let plugin = PluginLayer::new(Arc::new(Cube(live.clone()))).unwrap();
        let p = net.add_layer(LayerKind::Plugin(plugin), &[a]).unwrap();
        let p = net.layers[p].outputs[0];
        let y = net.add_layer(conv(2), &[p]).unwrap();
        let y = net.layers[y].outputs[0];
        net.mark_output(y).unwrap();
        for t in &mut net.tensors {
            t.dynamic_range = Some((-8.0, 8.0));
        }
        net
    }

    fn run(engine: Engine) -> Vec<f32> {
        let input: Vec<f32> = (0..2 * 32).map(|i| (i % 9) as f32 * 0.1 - 0.4).collect();
        let mut out = vec![0f32; 2 * 32];
        let mut ctx = ExecutionContext::new(Arc::new(engine)).unwrap();
        // SAFETY: f32 has no invalid bit patterns.
        let out_bytes = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), 4 * 64) };
        ctx.execute(
            2,
            &mut [
                HostBinding::Input(f32_bytes(&input)),
                HostBinding::Output(out_bytes),
            ],
        )
        .unwrap();
        out
    }

    /// The plugin runs in FP32 whatever the builder's mode; its INT8 and FP16 neighbours convert
    /// around it, and results stay close to the FP32 engine's.
    #[test]
    fn plugin_layers_run_fp32_between_int8_and_fp16_layers() {
        let live = Arc::new(AtomicI32::new(0));
        let net = network(&live);
        let build = |fp16, int8| {
            let cfg = BuilderConfig {
                max_batch_size: 2,
                fp16,
                int8,
                ..BuilderConfig::default()
            };
            build_engine(&net, &cfg, None, &NullLogger).unwrap()
        };
        let reference = run(build(false, false));
        for (fp16, int8) in [(true, false), (false, true), (true, true)] {
            let engine = build(fp16, int8);
            let plugin = engine
                .network
                .layers
                .iter()
                .position(|l| matches!(l.kind, LayerKind::Plugin(_)))
                .unwrap();
            assert_eq!(engine.precisions[plugin], Precision::Float);
            if int8 {
                assert!(engine.precisions.contains(&Precision::Int8));
            }
            let got = run(engine);
            let worst = got
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst < 0.1, "fp16 {fp16} int8 {int8}: off by {worst}");
        }
        drop(net);
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "every engine's plugin was released"
        );
    }

    /// Re-creates every plugin layer as a `Cube`, recording the layers it was asked for.
    struct Cubes(Arc<AtomicI32>, Vec<String>);

    impl crate::network::plugin::PluginResolver for Cubes {
        fn resolve(
            &mut self,
            layer: &str,
            origin: &PluginOrigin,
            data: &[u8],
        ) -> Result<Arc<dyn Plugin>> {
            assert_eq!((origin, data), (&PluginOrigin::Factory, &[][..]));
            self.1.push(layer.to_string());
            Ok(Arc::new(Cube(self.0.clone())))
        }
    }

    /// An engine file with a plugin layer reads back only through a resolver; without one, and
    /// truncated anywhere, it is an error, never a crash.
    #[test]
    fn plugin_layers_round_trip_through_a_resolver() {
        use crate::engine::serialize::{from_bytes, from_bytes_with, try_to_bytes};
        let live = Arc::new(AtomicI32::new(0));
        let net = network(&live);
        let cfg = BuilderConfig {
            max_batch_size: 2,
            ..BuilderConfig::default()
        };
        let engine = build_engine(&net, &cfg, None, &NullLogger).unwrap();
        let bytes = try_to_bytes(&engine).unwrap();
        let expected = run(engine);
        let err = from_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("is a plugin layer"), "{err}");
        let mut cubes = Cubes(live.clone(), Vec::new());
        let back = from_bytes_with(&bytes, &mut cubes).unwrap();
        assert_eq!(cubes.1, [net.layers[1].name.clone()]);
        assert_eq!(run(back), expected);
        for n in 0..bytes.len() {
            assert!(from_bytes_with(&bytes[..n], &mut cubes).is_err());
        }
        drop(net);
        drop(cubes);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }
}
