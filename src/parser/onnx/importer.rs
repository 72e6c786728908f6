//! The state of one parse: ONNX value names to network tensors or constants, and the helpers the
//! operator importers share (constants as layers, broadcasting, reshapes, attributes).

use std::collections::HashMap;
use std::rc::Rc;

use super::error::{PResult, bad};
use super::proto::{AttributeProto, NodeProto, attribute_proto::AttributeType};
use super::value::{Const, elem, read_tensor};
use crate::network::{LayerKind, Network, ShuffleParams, TensorId};
use crate::types::{DataType, ElementWiseOperation, Weights};

#[derive(Debug, Clone)]
pub enum Val {
    T(TensorId),
    C(Rc<Const>),
}

pub struct Importer<'n> {
    pub net: &'n mut Network,
    vals: HashMap<String, Val>,
    /// The default-domain opset the model imports.
    pub opset: i64,
    /// Name given to the layers of the node being imported (a suffix tells several apart).
    base_name: String,
    layers_of_node: usize,
    /// Tensors that existed before the current node: those are not renamed after its outputs.
    first_new_tensor: usize,
}

impl<'n> Importer<'n> {
    pub fn new(net: &'n mut Network, opset: i64) -> Self {
        Importer {
            net,
            vals: HashMap::new(),
            opset,
            base_name: String::new(),
            layers_of_node: 0,
            first_new_tensor: 0,
        }
    }

    pub fn define(&mut self, name: &str, v: Val) {
        self.vals.insert(name.to_string(), v);
    }

    pub fn lookup(&self, name: &str) -> Option<&Val> {
        self.vals.get(name)
    }

    pub fn begin_node(&mut self, name: String) {
        self.base_name = name;
        self.layers_of_node = 0;
        self.first_new_tensor = self.net.tensors.len();
    }

    /// Binds a node output; a tensor made by this node takes the ONNX name (which is what
    /// calibration caches, bindings and `ITensor::getName` show).
    pub fn set_output(&mut self, name: &str, v: Val) {
        if let Val::T(t) = v
            && t >= self.first_new_tensor
            && !name.is_empty()
        {
            self.net.tensors[t].name = name.to_string();
        }
        self.define(name, v);
    }

    /// Input `i` of `node`, `None` when absent or named "" (an omitted optional input).
    pub fn input(&self, node: &NodeProto, i: usize) -> PResult<Option<Val>> {
        match node.input.get(i).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(name) => self.vals.get(name).cloned().map(Some).ok_or_else(|| {
                bad!(
                    InvalidGraph,
                    "input {i} '{name}' is not produced by any earlier node, initializer or graph input"
                )
            }),
        }
    }

    pub fn req(&self, node: &NodeProto, i: usize) -> PResult<Val> {
        self.input(node, i)?
            .ok_or_else(|| bad!(InvalidNode, "required input {i} is missing"))
    }

    /// A constant input (weights, shapes): error when it is computed at run time.
    pub fn constant(&self, node: &NodeProto, i: usize, what: &str) -> PResult<Option<Rc<Const>>> {
        match self.input(node, i)? {
            None => Ok(None),
            Some(Val::C(c)) => Ok(Some(c)),
            Some(Val::T(_)) => Err(bad!(
                UnsupportedNode,
                "input {i} ({what}) must be a constant (an initializer or computed from constants)"
            )),
        }
    }

    pub fn shape(&self, v: &Val) -> Vec<usize> {
        match v {
            Val::T(t) => self.net.tensors[*t].shape.clone(),
            Val::C(c) => c.dims.clone(),
        }
    }

    pub fn is_int(&self, v: &Val) -> bool {
        match v {
            Val::T(t) => self.net.tensors[*t].dtype == DataType::Int32,
            Val::C(c) => c.is_int(),
        }
    }

    /// A value as a network tensor: constants become Constant layers (a scalar as one element).
    pub fn tensor(&mut self, v: &Val) -> PResult<TensorId> {
        match v {
            Val::T(t) => Ok(*t),
            Val::C(c) => {
                let dims = if c.dims.is_empty() {
                    vec![1]
                } else {
                    c.dims.clone()
                };
                if dims.contains(&0) {
                    return Err(bad!(
                        UnsupportedNode,
                        "an empty constant (dimensions {:?}) cannot be a network tensor",
                        c.dims
                    ));
                }
                let t = self.layer(
                    LayerKind::Constant {
                        dims,
                        weights: Weights::new(c.as_f32s()),
                    },
                    &[],
                )?;
                if c.is_int() {
                    self.net.tensors[t].dtype = DataType::Int32;
                }
                Ok(t)
            }
        }
    }

    /// Adds a layer named after the node and returns its first output.
    pub fn layer(&mut self, kind: LayerKind, inputs: &[TensorId]) -> PResult<TensorId> {
        let l = self.net.add_layer(kind, inputs)?;
        self.adopt_layers(l);
        Ok(self.net.layers[l].outputs[0])
    }

    /// Names the layers from `first` on, added directly to the network, after the current node.
    pub fn adopt_layers(&mut self, first: usize) {
        for l in first..self.net.layers.len() {
            self.layers_of_node += 1;
            self.net.layers[l].name = if self.layers_of_node == 1 {
                self.base_name.clone()
            } else {
                format!("{}_{}", self.base_name, self.layers_of_node)
            };
        }
    }

    pub fn shuffle(
        &mut self,
        t: TensorId,
        first: Vec<usize>,
        reshape: Option<Vec<usize>>,
    ) -> PResult<TensorId> {
        let dtype = self.net.tensors[t].dtype;
        let out = self.layer(
            LayerKind::Shuffle(ShuffleParams {
                first_transpose: first,
                reshape: reshape.map(|r| r.into_iter().map(|d| d as i64).collect()),
                second_transpose: vec![],
            }),
            &[t],
        )?;
        self.net.tensors[out].dtype = dtype;
        Ok(out)
    }

    pub fn reshape(&mut self, t: TensorId, dims: &[usize]) -> PResult<TensorId> {
        let dims = if dims.is_empty() {
            vec![1]
        } else {
            dims.to_vec()
        };
        if self.net.tensors[t].shape == dims {
            return Ok(t);
        }
        self.shuffle(t, vec![], Some(dims))
    }

    /// Prepends 1s up to `rank` dimensions (ONNX broadcasting aligns trailing dimensions,
    /// TensorRT's needs equal ranks).
    pub fn expand_rank(&mut self, t: TensorId, rank: usize) -> PResult<TensorId> {
        let shape = self.net.tensors[t].shape.clone();
        if shape.len() >= rank {
            return Ok(t);
        }
        let mut dims = vec![1; rank - shape.len()];
        dims.extend(shape);
        self.reshape(t, &dims)
    }

    pub fn elementwise(&mut self, op: ElementWiseOperation, a: &Val, b: &Val) -> PResult<TensorId> {
        let (a, b) = (self.tensor(a)?, self.tensor(b)?);
        let rank = self.net.tensors[a]
            .shape
            .len()
            .max(self.net.tensors[b].shape.len());
        let (a, b) = (self.expand_rank(a, rank)?, self.expand_rank(b, rank)?);
        let int = self.net.tensors[a].dtype == DataType::Int32
            && self.net.tensors[b].dtype == DataType::Int32;
        let out = self.layer(LayerKind::ElementWise { op }, &[a, b])?;
        if int {
            self.net.tensors[out].dtype = DataType::Int32;
        }
        Ok(out)
    }

    /// A constant of `rank` dimensions, all 1 but `axis` (for per-channel operands).
    pub fn channel_const(&mut self, values: Vec<f32>, rank: usize, axis: usize) -> PResult<Val> {
        let mut dims = vec![1; rank];
        dims[axis] = values.len();
        Ok(Val::C(Rc::new(Const::new(
            dims,
            values.into_iter().map(|v| v as f64).collect(),
            elem::FLOAT,
        ))))
    }
}

/// Normalises a possibly negative axis against `rank`.
pub fn axis(a: i64, rank: usize) -> PResult<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if !(0..r.max(1)).contains(&v) {
        return Err(bad!(
            InvalidNode,
            "axis {a} is out of range for rank {rank}"
        ));
    }
    Ok(v as usize)
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name() == name)
}

pub fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i())
}

pub fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map_or(default, |a| a.f())
}

pub fn attr_s(node: &NodeProto, name: &str, default: &str) -> String {
    attr(node, name).map_or(default.to_string(), |a| {
        String::from_utf8_lossy(a.s()).into_owned()
    })
}

pub fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

pub fn attr_floats(node: &NodeProto, name: &str) -> Option<Vec<f32>> {
    attr(node, name).map(|a| a.floats.clone())
}

pub fn attr_tensor(node: &NodeProto, name: &str) -> PResult<Option<Const>> {
    match attr(node, name) {
        Some(a) if a.r#type() == AttributeType::Tensor || a.t.is_some() => {
            a.t.as_ref().map(read_tensor).transpose()
        }
        _ => Ok(None),
    }
}

pub fn has_attr(node: &NodeProto, name: &str) -> bool {
    attr(node, name).is_some()
}
