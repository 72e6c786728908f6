//! The engine: an immutable, portable plan (DESIGN.md decision 5) holding the optimized network with
//! its weights, the precision of each layer, INT8 scales and the memory plan. Device-specific
//! preparation (packed weights, kernels) happens when an execution context is created.

pub mod context;
pub mod fusion;
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

/// The kernel family a convolution or FC layer runs with on CUDA (backend/cuda/plan.rs): chosen
/// by timing when the builder ran on a GPU, by rules otherwise. Values are the file's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tactic {
    /// igemm.cu's implicit GEMM (tensor cores for FP16 and INT8).
    Igemm = 1,
    /// conv.cu's shared-memory kernel; fc.cu's tiles for an FC layer.
    Shared = 2,
    /// conv.cu's direct kernel.
    Direct = 3,
}

impl Tactic {
    pub const ALL: [Tactic; 3] = [Tactic::Igemm, Tactic::Shared, Tactic::Direct];

    pub fn from_u8(v: u8) -> Option<Tactic> {
        Tactic::ALL.into_iter().find(|&t| t as u8 == v)
    }

    pub fn name(self) -> &'static str {
        match self {
            Tactic::Igemm => "igemm",
            Tactic::Shared => "shared",
            Tactic::Direct => "direct",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub name: String,
    pub tensor: TensorId,
    pub is_input: bool,
    pub shape: Shape,
    pub dtype: DataType,
}

/// The range of one dynamic input binding (builder::profile).
#[derive(Debug, Clone, PartialEq)]
pub struct BindingProfile {
    pub binding: usize,
    /// As `addInput` declared them: -1 where the profile decides.
    pub declared: Vec<i64>,
    pub min: Shape,
    pub opt: Shape,
    pub max: Shape,
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
    /// Dynamic inputs and their ranges; the engine itself is planned for each range's maximum.
    pub profile: Vec<BindingProfile>,
    /// The builder's `setMaxWorkspaceSize`: scratch memory a backend may use beyond the
    /// activations (the CUDA backend's split-reduction partial tiles). `usize::MAX` for engine
    /// files older than format 4, which ran with the backend's own bound.
    pub max_workspace_size: usize,
    /// Scratch bytes the CUDA plan needs within that limit, as measured when the builder ran on
    /// a GPU (`ICudaEngine::getWorkspaceSize`); 0 when built on the CPU, which needs none.
    pub workspace_size: usize,
    /// Per layer of `network`: the kernel family timing chose (convolution and FC layers of an
    /// engine built on a GPU), else None (the CUDA plan's rules decide).
    pub tactics: Vec<Option<Tactic>>,
}

impl BindingProfile {
    /// `shape` lies in the range (`name` names the binding in the error).
    pub fn check(&self, shape: &[usize], name: &str) -> Result<()> {
        let inside = shape.len() == self.min.len()
            && (0..shape.len()).all(|i| self.min[i] <= shape[i] && shape[i] <= self.max[i]);
        if !inside {
            crate::bail!(
                InvalidArgument,
                "dimensions {shape:?} of input '{name}' are outside its optimization profile ({:?} to {:?})",
                self.min,
                self.max
            );
        }
        Ok(())
    }
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
            tactics: vec![None; network.layers.len()],
            network,
            order,
            precisions,
            scales,
            bindings,
            plan,
            profile: Vec::new(),
            max_workspace_size: usize::MAX,
            workspace_size: 0,
        })
    }

    /// The engine re-planned for other shapes of its dynamic inputs (`shapes`: binding index and
    /// dimensions), each checked against its range.
    pub fn reshaped(&self, shapes: &[(usize, Shape)]) -> Result<Engine> {
        let mut network = self.network.clone();
        for (binding, shape) in shapes {
            let Some(r) = self.profile.iter().find(|r| r.binding == *binding) else {
                crate::bail!(InvalidArgument, "binding {binding} has fixed dimensions");
            };
            r.check(shape, &self.bindings[*binding].name)?;
            network.tensors[self.bindings[*binding].tensor].shape = shape.clone();
        }
        let mut engine = Engine::assemble(
            network,
            self.max_batch_size,
            self.precisions.clone(),
            self.scales.clone(),
        )?;
        engine.profile = self.profile.clone();
        engine.max_workspace_size = self.max_workspace_size;
        engine.workspace_size = self.workspace_size;
        engine.tactics = self.tactics.clone();
        Ok(engine)
    }

    /// A binding's dimensions as TensorRT reports them: -1 where they follow a dynamic input
    /// (found by re-planning at the profile's minimum).
    pub fn binding_dims(&self, binding: usize) -> Result<Vec<i64>> {
        let max = &self.bindings[binding].shape;
        if self.profile.is_empty() {
            return Ok(max.iter().map(|&d| d as i64).collect());
        }
        if let Some(r) = self.profile.iter().find(|r| r.binding == binding) {
            return Ok(r.declared.clone());
        }
        let at_min: Vec<(usize, Shape)> = self
            .profile
            .iter()
            .map(|r| (r.binding, r.min.clone()))
            .collect();
        let min = &self.reshaped(&at_min)?.bindings[binding].shape;
        Ok(max
            .iter()
            .zip(min)
            .map(|(&a, &b)| if a == b { a as i64 } else { -1 })
            .collect())
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
