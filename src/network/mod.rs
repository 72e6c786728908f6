//! The network definition: tensors and layers as TensorRT's `INetworkDefinition` builds them, in
//! implicit-batch mode (no tensor shape includes the batch).

pub mod layer;
pub mod matmul;
pub mod plugin;
pub mod resample;
pub mod shape;

use crate::error::{Error, Result};
use crate::types::*;
pub use layer::*;
pub use shape::TensorDesc;

pub type TensorId = usize;
pub type LayerId = usize;

#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Shape,
    pub dtype: DataType,
    /// The layer and output index that produce this tensor; `None` for network inputs.
    pub producer: Option<(LayerId, usize)>,
    /// User-set `[min, max]` (`ITensor::setDynamicRange`), used for INT8 instead of calibration.
    pub dynamic_range: Option<(f32, f32)>,
    pub broadcast_across_batch: bool,
    pub location: TensorLocation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub name: String,
    pub kind: LayerKind,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
    /// `ILayer::setPrecision` / `setOutputType`: honoured under strict types.
    pub precision: Option<DataType>,
    pub output_types: Vec<Option<DataType>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network {
    pub tensors: Vec<Tensor>,
    pub layers: Vec<Layer>,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
    pub name: String,
    /// `createNetworkV2(1U << kEXPLICIT_BATCH)`: every shape includes the batch dimension, and the
    /// engine runs the network as given (the implicit batch is 1).
    pub explicit_batch: bool,
    /// Inputs declared with -1 dimensions (explicit batch only), as declared; their `shape` holds 1
    /// for each -1 until the builder gives them the optimization profile's maximum.
    pub dynamic: std::collections::BTreeMap<TensorId, Vec<i64>>,
}

impl Network {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_input(&mut self, name: &str, dtype: DataType, shape: &[usize]) -> Result<TensorId> {
        if name.is_empty() {
            crate::bail!(InvalidArgument, "addInput: the input name is empty");
        }
        if self.inputs.iter().any(|&t| self.tensors[t].name == name) {
            crate::bail!(
                InvalidArgument,
                "addInput: an input named '{name}' already exists"
            );
        }
        // Bool inputs are select conditions (TensorRT 7); they are read as 0 and 1.
        if !matches!(
            dtype,
            DataType::Float | DataType::Half | DataType::Int32 | DataType::Int8 | DataType::Bool
        ) {
            crate::bail!(
                InvalidArgument,
                "addInput '{name}': data type {dtype:?} is not supported for inputs"
            );
        }
        if shape.is_empty() || shape.len() > 7 || shape.contains(&0) {
            crate::bail!(
                InvalidArgument,
                "addInput '{name}': dimensions {shape:?} must have 1 to 7 positive values (the batch is implicit)"
            );
        }
        if shape
            .iter()
            .try_fold(1usize, |v, &d| v.checked_mul(d))
            .is_none_or(|v| v > 1 << 31)
        {
            crate::bail!(
                InvalidArgument,
                "addInput '{name}': dimensions {shape:?} are too large"
            );
        }
        let id = self.push_tensor(name.to_string(), shape.to_vec(), dtype, None);
        self.inputs.push(id);
        Ok(id)
    }

    fn push_tensor(
        &mut self,
        name: String,
        shape: Shape,
        dtype: DataType,
        producer: Option<(LayerId, usize)>,
    ) -> TensorId {
        self.tensors.push(Tensor {
            name,
            shape,
            dtype,
            producer,
            dynamic_range: None,
            broadcast_across_batch: false,
            location: TensorLocation::Device,
        });
        self.tensors.len() - 1
    }

    fn check_tensor(&self, t: TensorId, what: &str) -> Result<()> {
        if t >= self.tensors.len() {
            crate::bail!(
                InvalidArgument,
                "{what}: tensor {t} does not belong to this network"
            );
        }
        Ok(())
    }

    /// Adds a layer after checking its inputs and inferring its output shapes; on error nothing is added.
    pub fn add_layer(&mut self, kind: LayerKind, inputs: &[TensorId]) -> Result<LayerId> {
        let id = self.layers.len();
        let what = format!("(Unnamed Layer* {id}) [{}]", kind.type_name());
        for &t in inputs {
            self.check_tensor(t, &what)?;
        }
        let descs = self.descs(inputs);
        let outs = self
            .infer(&kind, &descs)
            .map_err(|e| Error::Network(format!("{what}: {e}")))?;
        for o in &outs {
            check_size(&o.shape, &what)?;
        }
        let mut outputs = Vec::with_capacity(outs.len());
        for (i, o) in outs.into_iter().enumerate() {
            let name = if kind.nb_outputs() == 1 {
                format!("{what}_output")
            } else {
                format!("{what}_output_{i}")
            };
            outputs.push(self.push_tensor(name, o.shape, o.dtype, Some((id, i))));
        }
        let nb = outputs.len();
        self.layers.push(Layer {
            name: what,
            kind,
            inputs: inputs.to_vec(),
            outputs,
            precision: None,
            output_types: vec![None; nb],
        });
        self.update_broadcast(id);
        Ok(id)
    }

    /// Shape inference, where shapes downstream of a dynamic input are placeholders (no
    /// dimensions) when they do not work out: they are checked once the builder gives the input
    /// its profile's maximum.
    fn infer(&self, kind: &LayerKind, descs: &[TensorDesc]) -> Result<Vec<TensorDesc>, String> {
        match shape::infer(kind, descs) {
            Err(_) if !self.dynamic.is_empty() => {
                let unknown = TensorDesc {
                    shape: Vec::new(),
                    dtype: DataType::Float,
                };
                Ok(vec![unknown; kind.nb_outputs()])
            }
            r => r,
        }
    }

    fn descs(&self, inputs: &[TensorId]) -> Vec<TensorDesc> {
        inputs
            .iter()
            .map(|&t| TensorDesc {
                shape: self.tensors[t].shape.clone(),
                dtype: self.tensors[t].dtype,
            })
            .collect()
    }

    /// Constants carry no batch; results computed only from them are the same for every batch item.
    fn update_broadcast(&mut self, l: LayerId) {
        let layer = &self.layers[l];
        let invariant = matches!(layer.kind, LayerKind::Constant { .. })
            || (!layer.inputs.is_empty()
                && layer
                    .inputs
                    .iter()
                    .all(|&t| self.tensors[t].broadcast_across_batch));
        for &o in &self.layers[l].outputs.clone() {
            self.tensors[o].broadcast_across_batch = invariant;
        }
    }

    /// `addInput` with dimensions where -1 (explicit batch only) leaves one to the optimization
    /// profile.
    pub fn add_input_declared(
        &mut self,
        name: &str,
        dtype: DataType,
        declared: &[i64],
    ) -> Result<TensorId> {
        let shape = self.placeholder(name, declared)?;
        let t = self.add_input(name, dtype, &shape)?;
        if declared.contains(&-1) {
            self.dynamic.insert(t, declared.to_vec());
        }
        Ok(t)
    }

    /// `ITensor::setDimensions` on input `t`, -1 allowed as in [`Network::add_input_declared`].
    pub fn set_input_dims(&mut self, t: TensorId, declared: &[i64]) -> Result<()> {
        self.check_tensor(t, "input dimensions")?;
        let shape = self.placeholder(&self.tensors[t].name.clone(), declared)?;
        self.tensors[t].shape = shape;
        if declared.contains(&-1) {
            self.dynamic.insert(t, declared.to_vec());
        } else {
            self.dynamic.remove(&t);
        }
        Ok(())
    }

    /// The shape an input has until the builder sets its range: 1 for each -1.
    fn placeholder(&self, name: &str, declared: &[i64]) -> Result<Shape> {
        if let Some(bad) = declared.iter().find(|&&d| d == 0 || d < -1) {
            crate::bail!(
                InvalidArgument,
                "input '{name}': dimension {bad} in {declared:?} is neither positive nor -1"
            );
        }
        if declared.contains(&-1) && !self.explicit_batch {
            crate::bail!(
                InvalidArgument,
                "input '{name}': -1 dimensions {declared:?} need an explicit-batch network"
            );
        }
        Ok(declared.iter().map(|&d| d.max(1) as usize).collect())
    }

    pub fn mark_output(&mut self, t: TensorId) -> Result<()> {
        self.check_tensor(t, "markOutput")?;
        if !self.outputs.contains(&t) {
            self.outputs.push(t);
        }
        Ok(())
    }

    pub fn unmark_output(&mut self, t: TensorId) -> Result<()> {
        self.check_tensor(t, "unmarkOutput")?;
        let before = self.outputs.len();
        self.outputs.retain(|&o| o != t);
        if self.outputs.len() == before {
            crate::bail!(
                InvalidArgument,
                "unmarkOutput: tensor '{}' is not a network output",
                self.tensors[t].name
            );
        }
        Ok(())
    }

    pub fn set_layer_input(&mut self, l: LayerId, index: usize, t: TensorId) -> Result<()> {
        self.check_tensor(t, "setInput")?;
        let layer = self
            .layers
            .get_mut(l)
            .ok_or_else(|| Error::InvalidArgument(format!("setInput: no layer {l}")))?;
        if index >= layer.inputs.len() {
            crate::bail!(
                InvalidArgument,
                "setInput on layer '{}': index {index} is out of range (the layer has {} inputs)",
                layer.name,
                layer.inputs.len()
            );
        }
        layer.inputs[index] = t;
        Ok(())
    }

    /// Layers in an order where every layer comes after the producers of its inputs (`setInput` may
    /// wire a layer to a later one's output, as sampleMNIST does). Errors on a cycle.
    pub fn topological_order(&self) -> Result<Vec<LayerId>> {
        let n = self.layers.len();
        // 0 = unvisited, 1 = in progress, 2 = done
        let mut state = vec![0u8; n];
        let mut order = Vec::with_capacity(n);
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            state[root] = 1;
            while let Some(&mut (l, ref mut next)) = stack.last_mut() {
                if let Some(&t) = self.layers[l].inputs.get(*next) {
                    *next += 1;
                    if let Some((p, _)) = self.tensors[t].producer {
                        match state[p] {
                            0 => {
                                state[p] = 1;
                                stack.push((p, 0));
                            }
                            1 => crate::bail!(
                                Network,
                                "the network has a cycle through layer '{}'",
                                self.layers[p].name
                            ),
                            _ => {}
                        }
                    }
                } else {
                    state[l] = 2;
                    order.push(l);
                    stack.pop();
                }
            }
        }
        Ok(order)
    }

    /// Re-infers every output shape after parameters or inputs changed.
    pub fn refresh_shapes(&mut self) -> Result<Vec<LayerId>> {
        let order = self.topological_order()?;
        for &t in &self.inputs {
            let input = &self.tensors[t];
            check_size(&input.shape, &format!("input '{}'", input.name))?;
        }
        for &l in &order {
            let descs = self.descs(&self.layers[l].inputs);
            let name = &self.layers[l].name;
            let outs = self
                .infer(&self.layers[l].kind, &descs)
                .map_err(|e| Error::Network(format!("layer '{name}': {e}")))?;
            for o in &outs {
                check_size(&o.shape, &format!("layer '{name}'"))?;
            }
            for (o, d) in self.layers[l].outputs.clone().into_iter().zip(outs) {
                self.tensors[o].shape = d.shape;
                if self.tensors[o].dtype != DataType::Int32 || d.dtype == DataType::Int32 {
                    self.tensors[o].dtype = d.dtype;
                }
            }
            self.update_broadcast(l);
        }
        Ok(order)
    }

    pub fn find_tensor(&self, name: &str) -> Option<TensorId> {
        self.tensors.iter().position(|t| t.name == name)
    }

    pub fn is_input(&self, t: TensorId) -> bool {
        self.inputs.contains(&t)
    }

    pub fn is_output(&self, t: TensorId) -> bool {
        self.outputs.contains(&t)
    }
}

/// A tensor's shape must have a volume (per batch item, as f32) under the memory cap: later volume
/// arithmetic in shape inference, the memory plan and the kernels then cannot overflow.
fn check_size(shape: &[usize], what: &str) -> Result<()> {
    crate::limits::check(
        crate::limits::volume(shape),
        4,
        &format_args!("{what}: shape {shape:?}"),
    )
    .map_err(|e| Error::Network(e.to_string()))
}
