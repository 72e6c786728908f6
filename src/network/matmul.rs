//! How a MatrixMultiply layer walks its operands, shared by the CPU and CUDA kernels: per index of
//! the output's leading dimensions, `C = op0(A) · op1(B)`, where an operand's leading dimensions of
//! 1 (or missing) repeat.

use crate::types::MatrixOperation;

/// One operand: its own leading dimensions (1 where it repeats, all 1 when it has none) and how
/// element `(row, col)` of one of its matrices is addressed.
pub struct MatmulOperand {
    pub lead: Vec<usize>,
    pub rs: usize,
    pub cs: usize,
}

pub struct MatmulGeometry {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// The output's leading dimensions (before its matrix dimensions).
    pub lead: Vec<usize>,
    pub a: MatmulOperand,
    pub b: MatmulOperand,
}

impl MatmulGeometry {
    /// From the operations and the shapes of A, B and the output (checked by shape inference).
    pub fn new(
        op0: MatrixOperation,
        op1: MatrixOperation,
        a: &[usize],
        b: &[usize],
        out: &[usize],
    ) -> MatmulGeometry {
        use MatrixOperation::*;
        let last = |s: &[usize], back: usize| s[s.len() - back];
        let (m, k) = match op0 {
            None => (last(a, 2), last(a, 1)),
            Transpose => (last(a, 1), last(a, 2)),
            Vector => (1, last(a, 1)),
        };
        let n = match op1 {
            None => last(b, 1),
            Transpose => last(b, 2),
            Vector => 1,
        };
        let mat_dims = |op| if op == Vector { 1 } else { 2 };
        let lead = out[..out.len() - (op0 != Vector) as usize - (op1 != Vector) as usize].to_vec();
        let operand_lead = |s: &[usize], op| {
            let l = &s[..s.len() - mat_dims(op)];
            if l.is_empty() {
                vec![1; lead.len()]
            } else {
                l.to_vec()
            }
        };
        let (a_rs, a_cs) = match op0 {
            None => (k, 1),
            Transpose => (1, m),
            Vector => (0, 1),
        };
        let (b_rs, b_cs) = match op1 {
            None => (n, 1),
            Transpose => (1, k),
            Vector => (1, 0),
        };
        MatmulGeometry {
            m,
            k,
            n,
            a: MatmulOperand {
                lead: operand_lead(a, op0),
                rs: a_rs,
                cs: a_cs,
            },
            b: MatmulOperand {
                lead: operand_lead(b, op1),
                rs: b_rs,
                cs: b_cs,
            },
            lead,
        }
    }
}
