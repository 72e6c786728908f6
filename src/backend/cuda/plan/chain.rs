//! The small-batch plan of INT8 networks that are a chain of convolutions and then two FC layers
//! (LeNet's shape): two launches of kernels/chain.cu in place of one a layer. At small batches
//! the time is the graph's launches and each kernel's latency chain, so the whole network in two
//! kernels beats the best kernel a layer (LeNet INT8 at batch 100 on an H200: 54 µs in four
//! launches). The integers, epilogue operations and softmax are those of the plan's own kernels.

use std::mem::offset_of;

use super::{Builder, Fused, Store, int8_epilogue, int8_weights};
use crate::backend::cuda::args::{ChainConvArgs, ChainFcArgs};
use crate::backend::cuda::compile::fnv1a;
use crate::backend::cuda::kernels;
use crate::backend::cuda::step::{Grid, Loc, Step};
use crate::engine::Precision;
use crate::error::Result;
use crate::network::shape::{conv_geometry, pool_geometry};
use crate::network::{LayerId, LayerKind, TensorId};
use crate::types::{ActivationType, DataType};

/// The largest run the chain takes: beyond it, the layer-by-layer kernels fill the GPU better.
pub(super) const MOST_ITEMS: usize = 1056;
/// Threads of the convolution kernel's blocks (CHAIN_THREADS in chain.cu).
const CONV_THREADS: u32 = 512;
/// Items of the FC kernel's blocks (CFC_ROWS in chain.cu).
const FC_ROWS: usize = 16;
/// Outputs of the first FC layer a block of the FC kernel takes (four n8 tiles).
const FC_GROUP: usize = 32;
/// The most outputs of the second FC layer (its block keeps a row of each item it ends).
const FC2_MOST: usize = 64;

/// One convolution's constants in chain.cu (its comment says what each is).
#[derive(Clone, Copy, Debug, PartialEq)]
struct ConvLayer {
    cp: usize,
    hp: usize,
    wp: usize,
    c: usize,
    h: usize,
    w: usize,
    ph: usize,
    pw: usize,
    k: usize,
    nt: usize,
    oh: usize,
    ow: usize,
    sh: usize,
    sw: usize,
    ksteps: usize,
    pack: bool,
    relu: bool,
    pkh: usize,
    pkw: usize,
    psh: usize,
    psw: usize,
    poh: usize,
    pow_: usize,
    goff: usize,
    wfrag: usize,
    emul: usize,
    eadd: usize,
}

impl ConvLayer {
    /// The generated struct `name` of chain.cu's constants.
    fn constants(&self, name: &str) -> String {
        let v = [
            ("CP", self.cp),
            ("HP", self.hp),
            ("WP", self.wp),
            ("C", self.c),
            ("H", self.h),
            ("W", self.w),
            ("PH", self.ph),
            ("PW", self.pw),
            ("K", self.k),
            ("NT", self.nt),
            ("OH", self.oh),
            ("OW", self.ow),
            ("SH", self.sh),
            ("SW", self.sw),
            ("KSTEPS", self.ksteps),
            ("PACK", self.pack as usize),
            ("RELU", self.relu as usize),
            ("PKH", self.pkh),
            ("PKW", self.pkw),
            ("PSH", self.psh),
            ("PSW", self.psw),
            ("POH", self.poh),
            ("POW", self.pow_),
            ("GOFF", self.goff),
            ("WFRAG", self.wfrag),
            ("EMUL", self.emul),
            ("EADD", self.eadd),
        ];
        constants(name, &v)
    }
}

/// `struct name { static constexpr int A = 1, B = 2; };`
fn constants(name: &str, values: &[(&str, usize)]) -> String {
    let list: Vec<String> = values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!(
        "struct {name} {{ static constexpr int {}; }};\n",
        list.join(", ")
    )
}

/// A convolution's reduction in groups of 4 channels at one tap (taps outer), in 32-deep steps of
/// 8 groups: what chain.cu's A fragments load and its B fragments hold. A one-channel input staged
/// in rows (`rows`, chain.cu PACK) holds a pixel and the next three of its row in a word: a group
/// is 4 taps of a row of the window, so that LeNet's conv1 takes 2 steps rather than 4 (of which
/// three quarters multiplied padding channels).
struct Taps {
    c: usize,
    cp: usize,
    kh: usize,
    kw: usize,
    rows: bool,
}

impl Taps {
    /// Taps of a row of the window a group covers, and groups in a row.
    fn row_groups(&self) -> (usize, usize) {
        if self.rows {
            (4, self.kw.div_ceil(4))
        } else {
            (1, self.kw)
        }
    }

    fn groups(&self) -> usize {
        self.kh * self.row_groups().1 * self.cp / 4
    }

    fn ksteps(&self) -> usize {
        self.groups().div_ceil(8)
    }

    /// Byte offset of each group from a window's origin in a staged plane `wp` wide with
    /// dilation `d`; groups past the reduction read the origin (against zero weights).
    fn offsets(&self, wp: usize, d: [usize; 2]) -> Vec<i32> {
        let mut off = vec![0i32; self.ksteps() * 8];
        let cg = self.cp / 4;
        let (span, per_row) = self.row_groups();
        for (q, o) in off.iter_mut().enumerate().take(self.groups()) {
            let (tap, g) = (q / cg, q % cg);
            let (i, j) = (tap / per_row, tap % per_row * span);
            *o = ((i * d[0] * wp + j * d[1]) * self.cp + g * 4) as i32;
        }
        off
    }

    /// The weight of output `n` at reduction position `kk` (group `kk / 4`, channel `kk % 4` of
    /// it) from `[k][c][kh][kw]` integers, 0 past either end.
    fn weight(&self, w: &[i8], k: usize, n: usize, kk: usize) -> i8 {
        let (q, e) = (kk / 4, kk % 4);
        let cg = self.cp / 4;
        let (span, per_row) = self.row_groups();
        let (tap, ch) = (q / cg, (q % cg) * 4 + e);
        let (i, j, ch) = match self.rows {
            true => (tap / per_row, tap % per_row * span + e, 0),
            false => (tap / per_row, tap % per_row, ch),
        };
        if n >= k || q >= self.groups() || ch >= self.c || j >= self.kw {
            return 0;
        }
        w[((n * self.c + ch) * self.kh + i) * self.kw + j]
    }
}

/// B fragments of mma m16n8k32 for `tiles` n8 tiles of `ksteps` steps, tile-major: lane
/// (g, t) = (lane / 4, lane % 4) holds column g's reduction positions 4t..4t+3 and 16+4t..16+4t+3.
fn fragments(tiles: usize, ksteps: usize, weight: impl Fn(usize, usize) -> i8) -> Vec<[i8; 8]> {
    let mut out = Vec::with_capacity(tiles * ksteps * 32);
    for nt in 0..tiles {
        for ks in 0..ksteps {
            for lane in 0..32 {
                let (g, t) = (lane / 4, lane % 4);
                let mut f = [0i8; 8];
                for (e, v) in f.iter_mut().enumerate() {
                    let kk = ks * 32 + (e / 4) * 16 + 4 * t + e % 4;
                    *v = weight(nt * 8 + g, kk);
                }
                out.push(f);
            }
        }
    }
    out
}

/// Appends `data` to `blob` at a 16-byte boundary; its offset.
fn append<T: Copy>(blob: &mut Vec<u8>, data: &[T]) -> usize {
    blob.resize(blob.len().next_multiple_of(16), 0);
    let at = blob.len();
    // SAFETY: plain integers and floats, read as their bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(data.as_ptr() as *const u8, std::mem::size_of_val(data))
    };
    blob.extend_from_slice(bytes);
    at
}

/// Whether an INT8 layer reads tensor `x` as stored (INT8 on its own grid).
fn raw(b: &Builder, x: TensorId) -> bool {
    matches!((b.store[x], b.engine.scales[x]), (Store::I8(s), Some(q)) if s.to_bits() == q.to_bits())
}

/// ReLU (true) or no activation (false) fused into `l`; None for any other.
fn relu_of(b: &Builder, fused: &Fused) -> Option<bool> {
    match fused.act.map(|a| &b.net.layers[a].kind) {
        None => Some(false),
        Some(LayerKind::Activation { kind, .. }) if *kind == ActivationType::Relu => Some(true),
        _ => None,
    }
}

/// The chain's steps for `engine`'s layers `fused` (launching layers: not `absorbed`), for runs
/// of at most `most` items; None where the network is not such a chain.
pub(super) fn steps(
    b: &mut Builder,
    fused: &[Fused],
    absorbed: &[bool],
    most: usize,
) -> Result<Option<Vec<Step>>> {
    let (net, engine) = (b.net, b.engine);
    let launched: Vec<LayerId> = engine
        .order
        .iter()
        .copied()
        .filter(|&l| !absorbed[l])
        .collect();
    let inputs: Vec<_> = engine.bindings.iter().filter(|b| b.is_input).collect();
    let outputs: Vec<_> = engine.bindings.iter().filter(|b| !b.is_input).collect();
    let ([input], [output], [convs @ .., fc1, fc2]) = (&inputs[..], &outputs[..], &launched[..])
    else {
        return Ok(None);
    };
    if convs.is_empty()
        || input.dtype != DataType::Float
        || output.dtype != DataType::Float
        || net.tensors[input.tensor].broadcast_across_batch
        || launched
            .iter()
            .any(|&l| engine.precisions[l] != Precision::Int8)
    {
        return Ok(None);
    }
    let out_of = |l: LayerId| {
        fused[l]
            .last()
            .map_or(net.layers[l].outputs[0], |a| net.layers[a].outputs[0])
    };

    // The convolutions, each reading the last one's output.
    let mut blob = Vec::new();
    // The first layer's data, at the blob's start: copied ahead of the rest (chain.cu BLOB0).
    let mut first_bytes = 0;
    let mut layers = Vec::new();
    let mut x = input.tensor;
    for &l in convs {
        let LayerKind::Convolution(p) = &net.layers[l].kind else {
            return Ok(None);
        };
        let s = &net.tensors[x].shape;
        let out = out_of(l);
        let (Some(relu), &[c, h, w], Some(qs)) = (relu_of(b, &fused[l]), &s[..], engine.scales[x])
        else {
            return Ok(None);
        };
        if net.layers[l].inputs != [x] || p.groups != 1 || (l != convs[0] && !raw(b, x)) {
            return Ok(None);
        }
        let Ok(g) = conv_geometry(p, [h, w], false) else {
            return Ok(None);
        };
        let (k, nt) = (p.nb_output_maps, p.nb_output_maps.div_ceil(8));
        let pool = match fused[l].pool.map(|q| &net.layers[q].kind) {
            Some(LayerKind::Pooling(pp)) => match pool_geometry(pp, [g[0].out, g[1].out]) {
                Ok(pg) => Some((pp, pg)),
                Err(_) => return Ok(None),
            },
            _ => None,
        };
        let taps = Taps {
            c,
            cp: c.next_multiple_of(4),
            kh: p.kernel[0],
            kw: p.kernel[1],
            // Only the first layer's staging (from the input) can lay out rows.
            rows: layers.is_empty() && c == 1 && p.kernel[1] > 1 && p.dilation[1] == 1,
        };
        // The staged plane: the input after its padding, and every window's extent.
        let extent =
            |d: usize| (g[d].out - 1) * p.stride[d] + (p.kernel[d] - 1) * p.dilation[d] + 1;
        let (hp, wp) = ((g[0].pre + h).max(extent(0)), (g[1].pre + w).max(extent(1)));
        let (iw, scales) = int8_weights(&p.kernel_weights.values, k);
        let bias = if p.bias.values.is_empty() {
            vec![0.0; k]
        } else {
            p.bias.values.clone()
        };
        let act = if relu {
            ActivationType::Relu as i32
        } else {
            -1
        };
        let (mut emul, mut eadd, units) = int8_epilogue(qs, &scales, &bias, b.store[out], act);
        if !units {
            return Ok(None);
        }
        emul.resize(nt * 8, 0.0);
        eadd.resize(nt * 8, 0.0);
        let frags = fragments(nt, taps.ksteps(), |n, kk| taps.weight(&iw, k, n, kk));
        let (poh, pow_) = pool.map_or((g[0].out, g[1].out), |(_, pg)| (pg[0].out, pg[1].out));
        layers.push(ConvLayer {
            cp: taps.cp,
            hp,
            wp,
            c,
            h,
            w,
            ph: g[0].pre,
            pw: g[1].pre,
            k,
            nt,
            oh: g[0].out,
            ow: g[1].out,
            sh: p.stride[0],
            sw: p.stride[1],
            ksteps: taps.ksteps(),
            pack: taps.rows,
            relu,
            pkh: pool.map_or(1, |(pp, _)| pp.window[0]),
            pkw: pool.map_or(1, |(pp, _)| pp.window[1]),
            psh: pool.map_or(1, |(pp, _)| pp.stride[0]),
            psw: pool.map_or(1, |(pp, _)| pp.stride[1]),
            poh,
            pow_,
            goff: append(&mut blob, &taps.offsets(wp, p.dilation)),
            wfrag: append(&mut blob, &frags),
            emul: append(&mut blob, &emul),
            eadd: append(&mut blob, &eadd),
        });
        if layers.len() == 1 {
            first_bytes = blob.len().next_multiple_of(16);
        }
        x = out;
    }
    blob.resize(blob.len().next_multiple_of(16), 0);

    // Shared memory: the blob, two of the largest staged input (layers alternate), the largest
    // convolution output.
    let staged = layers
        .iter()
        .map(|l| l.cp * l.hp * l.wp)
        .max()
        .unwrap_or(0)
        .next_multiple_of(16);
    let conv_out = layers
        .iter()
        .map(|l| l.oh * l.ow * l.nt * 8)
        .max()
        .unwrap_or(0);
    let conv_smem = blob.len() + 2 * staged + conv_out;

    // The FC pair.
    let (
        LayerKind::FullyConnected {
            nb_outputs: n1,
            kernel: w1,
            bias: b1,
        },
        LayerKind::FullyConnected {
            nb_outputs: n2,
            kernel: w2,
            bias: b2,
        },
    ) = (&net.layers[*fc1].kind, &net.layers[*fc2].kind)
    else {
        return Ok(None);
    };
    let (n1, n2) = (*n1, *n2);
    let k1: usize = net.tensors[x].shape.iter().product();
    let y1 = out_of(*fc1);
    let y = out_of(*fc2);
    let (Some(relu1), Some(false), Some(q1), Some(q2)) = (
        relu_of(b, &fused[*fc1]),
        relu_of(b, &fused[*fc2]),
        engine.scales[x],
        engine.scales[y1],
    ) else {
        return Ok(None);
    };
    if net.layers[*fc1].inputs != [x]
        || net.layers[*fc2].inputs != [y1]
        || !raw(b, x)
        || !raw(b, y1)
        || !k1.is_multiple_of(4)
        || n2 > FC2_MOST
        || y != output.tensor
        || b.store[y] != Store::F32
        || !matches!(b.loc(y)?, Loc::Binding(_))
        || w1.values.len() != n1 * k1
        || w2.values.len() != n2 * n1
    {
        return Ok(None);
    }
    let groups = n1.div_ceil(FC_GROUP);
    let ksteps = k1.div_ceil(32);
    let fc_smem =
        FC_ROWS * (k1 + 16) + ksteps * 1024 + n2 * 32 + FC_ROWS * 32 + 2048 + FC_ROWS * n2 * 4;
    if conv_smem.max(fc_smem) > b.shared_per_block {
        return Ok(None);
    }
    let bias_of = |v: &[f32], n: usize| {
        if v.is_empty() {
            vec![0.0; n]
        } else {
            v.to_vec()
        }
    };
    let (iw1, s1) = int8_weights(&w1.values, n1);
    let relu_code = if relu1 {
        ActivationType::Relu as i32
    } else {
        -1
    };
    let (mut emul1, mut eadd1, units) =
        int8_epilogue(q1, &s1, &bias_of(&b1.values, n1), b.store[y1], relu_code);
    if !units {
        return Ok(None);
    }
    emul1.resize(groups * FC_GROUP, 0.0);
    eadd1.resize(groups * FC_GROUP, 0.0);
    let at1 = |n: usize, kk: usize| {
        if n < n1 && kk < k1 {
            iw1[n * k1 + kk]
        } else {
            0
        }
    };
    let frags: Vec<[i8; 8]> = (0..groups)
        .flat_map(|grp| fragments(4, ksteps, |n, kk| at1(grp * FC_GROUP + n, kk)))
        .collect();
    let (iw2, s2) = int8_weights(&w2.values, n2);
    let (emul2, eadd2, _) = int8_epilogue(q2, &s2, &bias_of(&b2.values, n2), Store::F32, -1);
    let mut w2g = vec![0i8; groups * n2 * FC_GROUP];
    for grp in 0..groups {
        for j in 0..n2 {
            for i in 0..FC_GROUP.min(n1 - grp * FC_GROUP) {
                w2g[(grp * n2 + j) * FC_GROUP + i] = iw2[j * n1 + grp * FC_GROUP + i];
            }
        }
    }

    // The kernels, compiled for these shapes.
    let mut tail = String::new();
    let names: Vec<String> = (0..layers.len()).map(|i| format!("chain_l{i}")).collect();
    for (layer, name) in layers.iter().zip(&names) {
        tail.push_str(&layer.constants(name));
    }
    let softmax = fused[*fc2].softmax.is_some();
    tail.push_str(&constants(
        "chain_net",
        &[
            ("BLOB", blob.len()),
            ("BLOB0", first_bytes),
            ("R0", blob.len()),
            ("R1", blob.len() + staged),
            ("R2", blob.len() + 2 * staged),
        ],
    ));
    tail.push_str(&constants(
        "chain_fc2",
        &[
            ("K1", k1),
            ("KSTEPS", ksteps),
            ("GROUPS", groups),
            ("RELU1", relu1 as usize),
            ("N2", n2),
            ("SOFTMAX", softmax as usize),
        ],
    ));
    let id = fnv1a(tail.as_bytes());
    let (conv_name, fc_name) = (
        format!("chain_conv_{id:016x}"),
        format!("chain_fc_{id:016x}"),
    );
    tail.push_str(&format!(
        "CHAIN_CONV({conv_name}, chain_net, {})\nCHAIN_FC({fc_name}, chain_fc2)\n",
        names.join(", ")
    ));
    let [conv_fn, fc_fn] = kernels::chain(&tail, &[&conv_name, &fc_name])?[..] else {
        crate::bail!(Runtime, "chain kernels: two functions expected");
    };

    let conv_args = ChainConvArgs {
        qs: engine.scales[input.tensor].unwrap_or(1.0),
        ..Default::default()
    };
    // The binding itself even where the layer-by-layer plan quantizes it first.
    let binding = engine
        .bindings
        .iter()
        .position(|bd| bd.tensor == input.tensor)
        .unwrap_or(0);
    let blob_loc = b.upload(&blob)?;
    let conv = Step::of(
        conv_fn,
        &conv_name,
        &conv_args,
        Grid::Blocks { per_item: 1 },
        false,
    )?
    .shared(conv_smem as u32)?
    .threads(CONV_THREADS)
    .count(offset_of!(ChainConvArgs, items), 1)
    .ptr(offset_of!(ChainConvArgs, x), Loc::Binding(binding))
    .ptr(offset_of!(ChainConvArgs, y), b.loc(x)?)
    .ptr(offset_of!(ChainConvArgs, blob), blob_loc);

    let acc = b.upload(&vec![0i32; most * n2])?;
    let tickets = b.upload(&vec![0i32; most.div_ceil(FC_ROWS)])?;
    let grid = Grid::Tiles {
        rows_per_item: 1,
        tile_rows: FC_ROWS as u32,
        col_tiles: groups as u32,
    };
    let uploads = [
        (offset_of!(ChainFcArgs, w1), b.upload(&frags)?),
        (offset_of!(ChainFcArgs, emul1), b.upload(&emul1)?),
        (offset_of!(ChainFcArgs, eadd1), b.upload(&eadd1)?),
        (offset_of!(ChainFcArgs, w2), b.upload(&w2g)?),
        (offset_of!(ChainFcArgs, emul2), b.upload(&emul2)?),
        (offset_of!(ChainFcArgs, eadd2), b.upload(&eadd2)?),
        (offset_of!(ChainFcArgs, acc), acc),
        (offset_of!(ChainFcArgs, tickets), tickets),
        (offset_of!(ChainFcArgs, x), b.loc(x)?),
        (offset_of!(ChainFcArgs, y), b.loc(y)?),
    ];
    let fc_step = |smem: usize| -> Result<Step> {
        let st = Step::of(fc_fn, &fc_name, &ChainFcArgs::default(), grid, false)?
            .shared(smem as u32)?
            .follows()
            .count(offset_of!(ChainFcArgs, items), 1);
        Ok(uploads.iter().fold(st, |st, &(off, loc)| st.ptr(off, loc)))
    };
    let mut fc = fc_step(fc_smem)?;
    // Blocks start while chain_conv runs, so they pack onto the SMs it leaves free and share
    // their tensor cores. Runs of at most one block an SM ask for over half an SM's shared
    // memory, which keeps their blocks apart (LeNet at batch 100 on an H200: 14.0 µs packed,
    // 13.1 apart; at batch 512, several waves apart, 31.8 packed against 37.5).
    let apart = (b.shared_per_block / 2 + 1).max(fc_smem);
    let spread = (b.sms as usize / groups) * FC_ROWS;
    if spread > 0 && conv_smem + apart <= b.shared_per_block {
        fc = fc.or_below(spread as u64, fc_step(apart)?);
    }
    let label = |ls: &[LayerId]| {
        ls.iter()
            .map(|&l| fused[l].label(net, l))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let mut conv = conv;
    conv.label = label(convs);
    fc.label = label(&[*fc1, *fc2]);
    Ok(Some(vec![conv, fc]))
}

#[cfg(test)]
mod tests {
    use super::{Taps, fragments};

    #[test]
    fn groups_walk_taps_then_channel_quads() {
        // LeNet's conv2: 20 channels (5 quads) at 25 taps, staged 12 wide.
        let t = Taps {
            c: 20,
            cp: 20,
            kh: 5,
            kw: 5,
            rows: false,
        };
        assert_eq!((t.groups(), t.ksteps()), (125, 16));
        let off = t.offsets(12, [1, 1]);
        assert_eq!(off.len(), 128);
        assert_eq!(&off[..6], &[0, 4, 8, 12, 16, 20]);
        // Tap (1, 0) is one staged row down: 12 pixels of 20 bytes.
        assert_eq!(off[25], 240);
        assert_eq!(&off[125..], &[0, 0, 0]);
        // A single channel padded to a quad: channels 1-3 are zero weights.
        let one = Taps {
            c: 1,
            cp: 4,
            kh: 5,
            kw: 5,
            rows: false,
        };
        let w: Vec<i8> = (0..2 * 25).map(|v| v as i8).collect();
        assert_eq!(one.weight(&w, 2, 1, 4 * 7), 25 + 7);
        assert_eq!(one.weight(&w, 2, 1, 4 * 7 + 1), 0);
        assert_eq!(one.weight(&w, 2, 2, 0), 0);
        assert_eq!(one.weight(&w, 2, 0, 4 * 25), 0);
    }

    #[test]
    fn rows_of_a_one_channel_input_group_four_taps() {
        // LeNet's conv1: 5x5 taps of one channel, staged 28 wide, a word per pixel.
        let t = Taps {
            c: 1,
            cp: 4,
            kh: 5,
            kw: 5,
            rows: true,
        };
        assert_eq!((t.groups(), t.ksteps()), (10, 2));
        let off = t.offsets(28, [1, 1]);
        // Group q: window row q / 2, taps 0-3 or 4 (and three past the row) of it.
        assert_eq!(&off[..4], &[0, 16, 28 * 4, 28 * 4 + 16]);
        assert_eq!(&off[10..], &[0; 6]);
        let w: Vec<i8> = (0..2 * 25).map(|v| v as i8).collect();
        // Output 1, group 3 (row 1, taps 4..), first position: tap (1, 4).
        assert_eq!(t.weight(&w, 2, 1, 4 * 3), 25 + 5 + 4);
        assert_eq!(t.weight(&w, 2, 1, 4 * 2 + 3), 25 + 5 + 3);
        assert_eq!(t.weight(&w, 2, 1, 4 * 3 + 1), 0);
        assert_eq!(t.weight(&w, 2, 1, 4 * 10), 0);
    }

    #[test]
    fn fragments_follow_the_mma_b_layout() {
        // Weight (n, kk) = n * 64 + kk, as i8 (wrapping): one tile, two steps.
        let f = fragments(1, 2, |n, kk| (n * 64 + kk) as i8);
        assert_eq!(f.len(), 64);
        // Lane 6: column 1, positions 8..11 and 24..27 of each step.
        assert_eq!(f[6], [72, 73, 74, 75, 88, 89, 90, 91]);
        assert_eq!(f[32 + 6], [104, 105, 106, 107, 120, 121, 122, 123]);
    }
}
