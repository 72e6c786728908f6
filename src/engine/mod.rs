//! The engine: an immutable, portable plan (DESIGN.md decision 5) holding the optimized network with
//! its weights, the precision of each layer, INT8 scales and the memory plan. Device-specific
//! preparation (packed weights, kernels) happens when an execution context is created.

pub mod context;
pub mod int8;
pub mod plan;
pub mod plugin;
pub mod serialize;

use crate::error::Result;
use crate::network::{LayerId, Network, TensorId};
use crate::types::{DataType, Shape};
pub use context::ExecutionContext;
pub use plan::MemoryPlan;

/// The precision a layer runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Float,
    Half,
    Int8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub name: String,
    pub tensor: TensorId,
    pub is_input: bool,
    pub shape: Shape,
    pub dtype: DataType,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Engine {
    pub max_batch_size: usize,
    /// The network as built: only the layers that reach an output, shapes inferred.
    pub network: Network,
    /// Execution order (producers before consumers).
    pub order: Vec<LayerId>,
    /// Per layer of `network`.
    pub precisions: Vec<Precision>,
    /// Per tensor: INT8 scale (`amax / 127`) where the engine has one.
    pub scales: Vec<Option<f32>>,
    pub bindings: Vec<Binding>,
    pub plan: MemoryPlan,
}

impl Engine {
    /// Completes an engine from what defines it (also what an engine file stores): checks that the
    /// layers are in execution order and their shapes consistent, then derives bindings (inputs in
    /// `addInput` order, then outputs in `markOutput` order) and the memory plan.
    pub fn assemble(
        mut network: Network,
        max_batch_size: usize,
        precisions: Vec<Precision>,
        scales: Vec<Option<f32>>,
    ) -> Result<Engine> {
        if max_batch_size == 0 {
            crate::bail!(InvalidArgument, "the maximum batch size must be at least 1");
        }
        if precisions.len() != network.layers.len() || scales.len() != network.tensors.len() {
            crate::bail!(
                Format,
                "precisions or scales do not match the network's layers and tensors"
            );
        }
        for (l, layer) in network.layers.iter().enumerate() {
            for &t in &layer.inputs {
                let ready = match network.tensors.get(t).map(|t| t.producer) {
                    Some(Some((p, _))) => p < l,
                    Some(None) => network.inputs.contains(&t),
                    None => false,
                };
                if !ready {
                    crate::bail!(
                        Network,
                        "layer '{}' reads tensor {t} before it is computed",
                        layer.name
                    );
                }
            }
        }
        network.refresh_shapes()?;
        let order: Vec<LayerId> = (0..network.layers.len()).collect();
        let plan = MemoryPlan::new(&network, &order)?;
        // Each execution context allocates this arena: refuse an engine no context could hold.
        crate::limits::check(
            plan.arena_len.checked_mul(max_batch_size),
            std::mem::size_of::<f32>(),
            &format_args!("the activation memory at maximum batch size {max_batch_size}"),
        )?;
        let mut bindings = Vec::new();
        for (is_input, list) in [(true, &network.inputs), (false, &network.outputs)] {
            for &t in list {
                let tensor = &network.tensors[t];
                bindings.push(Binding {
                    name: tensor.name.clone(),
                    tensor: t,
                    is_input,
                    shape: tensor.shape.clone(),
                    dtype: tensor.dtype,
                });
            }
        }
        Ok(Engine {
            max_batch_size,
            network,
            order,
            precisions,
            scales,
            bindings,
            plan,
        })
    }

    pub fn binding_index(&self, name: &str) -> Option<usize> {
        self.bindings.iter().position(|b| b.name == name)
    }

    pub fn nb_layers(&self) -> usize {
        self.order.len()
    }

    /// Bytes of activation memory a context needs at the maximum batch size.
    pub fn device_memory_size(&self) -> usize {
        self.plan.arena_len * self.max_batch_size * std::mem::size_of::<f32>()
    }
}
