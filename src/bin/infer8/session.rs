//! Running an engine over many items, in chunks of its maximum batch size.

use std::sync::Arc;

use infer8::engine::context::{HostBinding, f32_bytes};
use infer8::engine::{Engine, ExecutionContext};
use infer8::error::Result;
use infer8::network::TensorId;
use infer8::types::{DataType, volume};

/// Sees a chunk's first item index, a tensor and its values.
pub type ItemObserver<'a> = dyn FnMut(usize, TensorId, &[f32]) + 'a;

pub struct Runner {
    pub engine: Arc<Engine>,
    pub ctx: ExecutionContext,
}

impl Runner {
    pub fn new(engine: Arc<Engine>) -> Result<Runner> {
        let inputs: Vec<_> = engine.bindings.iter().filter(|b| b.is_input).collect();
        if inputs.len() != 1 || inputs[0].dtype != DataType::Float {
            infer8::bail!(
                Unsupported,
                "the command line feeds engines with exactly one FP32 input ({} here)",
                inputs.len()
            );
        }
        let ctx = ExecutionContext::new(Arc::clone(&engine))?;
        Ok(Runner { engine, ctx })
    }

    pub fn input_volume(&self) -> usize {
        self.engine
            .bindings
            .iter()
            .find(|b| b.is_input)
            .map_or(0, |b| volume(&b.shape))
    }

    /// Outputs (one vector per output binding) of `count` items; `observe`, when given, sees every
    /// tensor of every chunk with the chunk's first item index (the CPU runs it then).
    pub fn infer(
        &mut self,
        data: &[f32],
        count: usize,
        mut observe: Option<&mut ItemObserver>,
    ) -> Result<Vec<Vec<f32>>> {
        let item = self.input_volume();
        let outs: Vec<usize> = self
            .engine
            .bindings
            .iter()
            .filter(|b| !b.is_input)
            .map(|b| volume(&b.shape))
            .collect();
        let mut results: Vec<Vec<f32>> = outs
            .iter()
            .map(|&v| Vec::with_capacity(v * count))
            .collect();
        let max = self.engine.max_batch_size;
        let mut first = 0;
        while first < count {
            let n = max.min(count - first);
            let input = f32_bytes(&data[first * item..(first + n) * item]);
            let mut buffers: Vec<Vec<u8>> = outs.iter().map(|&v| vec![0u8; v * n * 4]).collect();
            let mut bindings = Vec::with_capacity(self.engine.bindings.len());
            let mut out_iter = buffers.iter_mut();
            for b in &self.engine.bindings {
                if b.is_input {
                    bindings.push(HostBinding::Input(input));
                } else if let Some(buf) = out_iter.next() {
                    bindings.push(HostBinding::Output(buf));
                }
            }
            match observe.as_mut() {
                Some(f) => self.ctx.run(n, &mut bindings, &mut |t, v| f(first, t, v))?,
                // Nothing to observe: the engine's device (the GPU with --device cuda) runs it.
                None => self.ctx.execute(n, &mut bindings)?,
            }
            for (r, buf) in results.iter_mut().zip(&buffers) {
                r.extend(
                    buf.chunks_exact(4)
                        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
                );
            }
            first += n;
        }
        Ok(results)
    }
}
