//! INT8 support shared by the INT8 kernels: how a layer's input and output are quantized, the
//! integer weights, and views of INT8 tensors inside the `f32` activation arena.
//!
//! The engine keeps a tensor INT8 between two layers when both ends can work on INT8 values; its
//! region in the arena is then sized in `f32` slots as any tensor's, and the INT8 values fill the
//! first quarter of its bytes.

/// How an INT8 convolution or fully connected layer meets its neighbours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Int8Gemm {
    /// The scale of the INT8 input (`amax / 127`).
    pub input_scale: f32,
    /// The input tensor is stored INT8 on `input_scale`; otherwise it is real and quantized here.
    pub input_int8: bool,
    /// Requantize the output to INT8 on this scale; `None`: store real values.
    pub output_scale: Option<f32>,
}

impl Int8Gemm {
    /// Per output channel `(mul, add)` of the epilogue: accumulators times `scale_in · scale_w`
    /// plus the bias, divided by the output scale when the output is INT8.
    pub fn epilogue(&self, weight_scales: &[f32], bias: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let out = self.output_scale.unwrap_or(1.0);
        let mul = weight_scales
            .iter()
            .map(|&s| self.input_scale * s / out)
            .collect();
        let add = (0..weight_scales.len())
            .map(|c| bias.get(c).copied().unwrap_or(0.0) / out)
            .collect();
        (mul, add)
    }
}

/// Symmetric per-output-channel INT8 weights.
pub struct WeightsQ {
    pub values: Vec<i8>,
    pub scales: Vec<f32>,
}

impl WeightsQ {
    /// `w` holds `channels` equal runs. The builder already rounded INT8 layers' weights to
    /// `q · amax / 127` per channel (`builder::precision`), so quantizing again with the same
    /// rule recovers `q` exactly; raw FP32 weights are quantized the same way.
    pub fn new(w: &[f32], channels: usize) -> WeightsQ {
        let per = w.len().checked_div(channels).unwrap_or(0);
        let mut values = vec![0i8; w.len()];
        let mut scales = vec![0.0; channels];
        for ((chunk, q), s) in w
            .chunks(per.max(1))
            .zip(values.chunks_mut(per.max(1)))
            .zip(scales.iter_mut())
        {
            let amax = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
            if amax == 0.0 || !amax.is_finite() {
                continue;
            }
            *s = amax / 127.0;
            for (q, &v) in q.iter_mut().zip(chunk) {
                *q = (v / *s).round().clamp(-127.0, 127.0) as i8;
            }
        }
        WeightsQ { values, scales }
    }
}

/// The INT8 values of a tensor stored INT8 (all of its region's bytes).
pub fn i8_view(data: &[f32]) -> &[i8] {
    // SAFETY: same memory, i8 has no alignment requirement or invalid bit patterns.
    unsafe { std::slice::from_raw_parts(data.as_ptr() as *const i8, std::mem::size_of_val(data)) }
}

pub fn i8_view_mut(data: &mut [f32]) -> &mut [i8] {
    // SAFETY: as above, through the unique borrow.
    unsafe {
        std::slice::from_raw_parts_mut(data.as_mut_ptr() as *mut i8, std::mem::size_of_val(data))
    }
}

/// Scratch as `i16` (f32 alignment exceeds i16's).
pub fn i16_view_mut(data: &mut [f32]) -> &mut [i16] {
    // SAFETY: same memory, aligned for i16, every bit pattern valid.
    unsafe { std::slice::from_raw_parts_mut(data.as_mut_ptr() as *mut i16, data.len() * 2) }
}
