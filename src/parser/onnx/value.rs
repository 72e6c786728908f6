//! Values flowing through the graph: network tensors, or constants known at parse time
//! (initializers, `Constant` nodes and everything folded from them, such as shape subgraphs).

use super::error::{PResult, bad};
use super::proto::TensorProto;

/// ONNX `TensorProto.DataType` values the parser knows.
pub mod elem {
    pub const FLOAT: i32 = 1;
    pub const UINT8: i32 = 2;
    pub const INT8: i32 = 3;
    pub const UINT16: i32 = 4;
    pub const INT16: i32 = 5;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const BOOL: i32 = 9;
    pub const FLOAT16: i32 = 10;
    pub const DOUBLE: i32 = 11;
    pub const UINT32: i32 = 12;
    pub const UINT64: i32 = 13;

    pub fn is_float(t: i32) -> bool {
        matches!(t, FLOAT | FLOAT16 | DOUBLE)
    }

    pub fn name(t: i32) -> String {
        match t {
            FLOAT => "FLOAT".into(),
            UINT8 => "UINT8".into(),
            INT8 => "INT8".into(),
            UINT16 => "UINT16".into(),
            INT16 => "INT16".into(),
            INT32 => "INT32".into(),
            INT64 => "INT64".into(),
            BOOL => "BOOL".into(),
            FLOAT16 => "FLOAT16".into(),
            DOUBLE => "DOUBLE".into(),
            UINT32 => "UINT32".into(),
            UINT64 => "UINT64".into(),
            8 => "STRING".into(),
            16 => "BFLOAT16".into(),
            t => format!("data type {t}"),
        }
    }
}

/// A constant tensor. Values are held as f64, exact for every f32 and for integers below 2^53
/// (shapes, indices), so folding integer shape arithmetic loses nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    pub dims: Vec<usize>,
    pub values: Vec<f64>,
    /// The ONNX element type.
    pub elem: i32,
}

impl Const {
    pub fn new(dims: Vec<usize>, values: Vec<f64>, elem: i32) -> Const {
        debug_assert_eq!(dims.iter().product::<usize>(), values.len());
        Const { dims, values, elem }
    }

    pub fn ints(values: &[i64]) -> Const {
        Const::new(
            vec![values.len()],
            values.iter().map(|&v| v as f64).collect(),
            elem::INT64,
        )
    }

    pub fn scalar(v: f64, elem: i32) -> Const {
        Const::new(vec![], vec![v], elem)
    }

    pub fn as_i64s(&self) -> Vec<i64> {
        self.values.iter().map(|&v| v as i64).collect()
    }

    pub fn as_f32s(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }

    pub fn is_int(&self) -> bool {
        !elem::is_float(self.elem)
    }
}

/// Reads a `TensorProto` (initializer, attribute or test data) into a [`Const`].
pub fn read_tensor(t: &TensorProto) -> PResult<Const> {
    let what = || {
        if t.name().is_empty() {
            "a tensor".to_string()
        } else {
            format!("tensor '{}'", t.name())
        }
    };
    if t.data_location() == super::proto::tensor_proto::DataLocation::External {
        return Err(bad!(
            UnsupportedGraph,
            "{}: external data is not supported (store the weights inside the model)",
            what()
        ));
    }
    let dims: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            bad!(
                InvalidValue,
                "{}: negative dimension in {:?}",
                what(),
                t.dims
            )
        })?;
    let n: usize = dims.iter().product();
    let ty = t.data_type();
    let raw = t.raw_data();
    let values: Vec<f64> = if !raw.is_empty() {
        let size = match ty {
            elem::FLOAT | elem::INT32 | elem::UINT32 => 4,
            elem::INT64 | elem::UINT64 | elem::DOUBLE => 8,
            elem::FLOAT16 | elem::INT16 | elem::UINT16 => 2,
            elem::INT8 | elem::UINT8 | elem::BOOL => 1,
            _ => {
                return Err(bad!(
                    UnsupportedGraph,
                    "{}: element type {} is not supported",
                    what(),
                    elem::name(ty)
                ));
            }
        };
        if raw.len() != n * size {
            return Err(bad!(
                InvalidValue,
                "{}: raw_data has {} bytes, dimensions {:?} need {}",
                what(),
                raw.len(),
                dims,
                n * size
            ));
        }
        raw.chunks_exact(size)
            .map(|b| match ty {
                elem::FLOAT => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                elem::INT32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                elem::UINT32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                elem::INT64 => i64::from_le_bytes(b.try_into().unwrap_or_default()) as f64,
                elem::UINT64 => u64::from_le_bytes(b.try_into().unwrap_or_default()) as f64,
                elem::DOUBLE => f64::from_le_bytes(b.try_into().unwrap_or_default()),
                elem::FLOAT16 => half::f16::from_le_bytes([b[0], b[1]]).to_f64(),
                elem::INT16 => i16::from_le_bytes([b[0], b[1]]) as f64,
                elem::UINT16 => u16::from_le_bytes([b[0], b[1]]) as f64,
                elem::INT8 => b[0] as i8 as f64,
                _ => b[0] as f64,
            })
            .collect()
    } else {
        match ty {
            elem::FLOAT => t.float_data.iter().map(|&v| v as f64).collect(),
            elem::DOUBLE => t.double_data.clone(),
            elem::INT64 => t.int64_data.iter().map(|&v| v as f64).collect(),
            elem::UINT32 | elem::UINT64 => t.uint64_data.iter().map(|&v| v as f64).collect(),
            elem::FLOAT16 => t
                .int32_data
                .iter()
                .map(|&v| half::f16::from_bits(v as u16).to_f64())
                .collect(),
            elem::INT32 | elem::INT16 | elem::INT8 | elem::UINT16 | elem::UINT8 | elem::BOOL => {
                t.int32_data.iter().map(|&v| v as f64).collect()
            }
            _ => {
                return Err(bad!(
                    UnsupportedGraph,
                    "{}: element type {} is not supported",
                    what(),
                    elem::name(ty)
                ));
            }
        }
    };
    if values.len() != n {
        return Err(bad!(
            InvalidValue,
            "{}: {} values for dimensions {:?}",
            what(),
            values.len(),
            dims
        ));
    }
    Ok(Const::new(dims, values, ty))
}
