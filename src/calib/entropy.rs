//! KL-divergence ("entropy") threshold search over a histogram of nonzero |x|.
//!
//! Which is which (TensorRT does not publish the difference, see trt-legacy-api.md §4.4):
//! - `EntropyCalibration2` (v2) is the ncnn-faithful search of §4.3: fractional merge edges,
//!   every bin of P and the expanded Q smoothed by +1e-4, no renormalisation. TensorRT runs v2 on
//!   every tensor of the network before fusion; that choice of tensors belongs to the builder.
//! - `EntropyCalibration` (v1) is the GTC 2017 pseudocode as pytorch-quantization and MXNet
//!   realise it: source bin j belongs to level floor(j * 128 / kept), a level's mass is spread
//!   only over its nonzero source bins, P and Q are normalised, bins empty in P are left out of
//!   the sum, and a candidate whose P has mass where Q has none scores +inf.
//!
//! Both scan kept = 128..=n bins and take the first minimum. The threshold is
//! amax = (kept + 0.5) * absmax / n, with `kept` the number of bins kept, i.e. the exclusive end
//! index, as in ncnn's `(target_threshold + 0.5f)`. That is the reading the published caches
//! force: MNIST `prob` decodes to 2048.5/2048 * absmax, reachable only with all 2048 bins kept
//! (the last kept bin's index is at most 2047), and `data` to 2040.5/2048 * absmax.

use super::histogram::Histogram;

/// int8 is symmetric, so |x| maps onto 128 levels.
const LEVELS: usize = 128;
/// ncnn's smoothing constant; it also keeps every logarithm finite in v2.
const EPS: f64 = 1e-4;

/// (normalised histogram, mass beyond the kept bins, kept bins, levels) -> divergence.
type Divergence = fn(&[f64], f64, usize, usize) -> f64;

pub(crate) fn amax_v2(hist: &Histogram) -> f32 {
    amax_by(hist, divergence_v2)
}

pub(crate) fn amax_v1(hist: &Histogram) -> f32 {
    amax_by(hist, divergence_v1)
}

fn amax_by(hist: &Histogram, divergence: Divergence) -> f32 {
    let n = hist.bins.len();
    let total = hist.nonzero_count();
    // Without nonzero data there is nothing to trade off; the observed maximum is the only fact.
    if total == 0 || n < LEVELS {
        return hist.absmax;
    }
    let h: Vec<f64> = hist.bins.iter().map(|&c| c as f64 / total as f64).collect();
    let curve = divergence_curve(&h, LEVELS, divergence);
    let mut kept = LEVELS;
    let mut best = f64::INFINITY;
    for (i, &kl) in curve.iter().enumerate() {
        if kl < best {
            best = kl;
            kept = LEVELS + i;
        }
    }
    amax_for_kept(kept, hist.absmax, n)
}

pub(crate) fn amax_for_kept(kept: usize, absmax: f32, n: usize) -> f32 {
    ((kept as f64 + 0.5) * f64::from(absmax) / n as f64) as f32
}

/// Divergence for kept = levels..=h.len(); entry i is kept = levels + i.
fn divergence_curve(h: &[f64], levels: usize, divergence: Divergence) -> Vec<f64> {
    // Suffix sums computed once, in a fixed order, so every candidate sees the same outlier mass.
    let mut tails = vec![0.0; h.len() + 1];
    for j in (0..h.len()).rev() {
        tails[j] = tails[j + 1] + h[j];
    }
    let candidates = h.len() + 1 - levels;
    // Each candidate is computed alone, so splitting them over threads changes no bit; striding
    // balances the work, which grows with `kept`.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 16)
        .min(candidates);
    let strided = |w: usize| -> Vec<f64> {
        (levels + w..=h.len())
            .step_by(workers)
            .map(|kept| divergence(h, tails[kept], kept, levels))
            .collect()
    };
    let parts: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let spawned: Vec<_> = (1..workers)
            .map(|w| std::thread::Builder::new().spawn_scoped(scope, move || strided(w)))
            .collect();
        let mut parts = vec![strided(0)];
        for (w, handle) in (1..workers).zip(spawned) {
            // A thread that could not start is done here instead; a panicked one is a bug.
            parts.push(match handle {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => strided(w),
            });
        }
        parts
    });
    (0..candidates)
        .map(|i| parts[i % workers][i / workers])
        .collect()
}

/// Calls `f(bin, weight)` for the source bins under level k when `kept` bins are merged into
/// `levels`: the interval [k * kept / levels, (k + 1) * kept / levels) with fractional weights at
/// its ends. Positions are counted in 1/levels of a bin so all edge arithmetic is exact.
fn for_each_overlap(k: usize, kept: usize, levels: usize, mut f: impl FnMut(usize, f64)) {
    let start = k * kept;
    let end = (k + 1) * kept;
    let first_full = start.div_ceil(levels);
    let end_full = end / levels;
    if !start.is_multiple_of(levels) {
        f(
            first_full - 1,
            (first_full * levels - start) as f64 / levels as f64,
        );
    }
    for j in first_full..end_full {
        f(j, 1.0);
    }
    if !end.is_multiple_of(levels) {
        f(end_full, (end - end_full * levels) as f64 / levels as f64);
    }
}

fn divergence_v2(h: &[f64], outliers: f64, kept: usize, levels: usize) -> f64 {
    let width = kept as f64 / levels as f64;
    let mut expanded = vec![EPS; kept];
    for k in 0..levels {
        let mut mass = 0.0;
        for_each_overlap(k, kept, levels, |j, w| mass += w * h[j]);
        let mean = mass / width;
        for_each_overlap(k, kept, levels, |j, w| expanded[j] += w * mean);
    }
    let mut kl = 0.0;
    // Neighbouring bins often repeat a term (empty bins under one level share p = EPS and e,
    // tails repeat small counts): reusing the last logarithm saves most `ln` calls, bit for bit.
    let (mut last_p, mut last_e, mut last_ln) = (f64::NAN, f64::NAN, 0.0);
    for (j, &e) in expanded.iter().enumerate() {
        let mut p = EPS + h[j];
        if j == kept - 1 {
            p += outliers;
        }
        // Equal terms contribute exactly 0; skipping their logarithm matters for sparse tails.
        if p != e {
            if p != last_p || e != last_e {
                (last_p, last_e, last_ln) = (p, e, (p / e).ln());
            }
            kl += p * last_ln;
        }
    }
    kl
}

fn divergence_v1(h: &[f64], outliers: f64, kept: usize, levels: usize) -> f64 {
    // Level k holds the bins j with floor(j * levels / kept) == k, i.e. j in
    // [ceil(k * kept / levels), ceil((k + 1) * kept / levels)); ranges avoid a division per bin.
    let level_range = |k: usize| (k * kept).div_ceil(levels)..((k + 1) * kept).div_ceil(levels);
    let q_total: f64 = h[..kept].iter().sum();
    if q_total <= 0.0 {
        return f64::INFINITY;
    }
    let p_total = q_total + outliers;
    let mut kl = 0.0;
    for k in 0..levels {
        let range = level_range(k);
        let bins = &h[range.clone()];
        let support = bins.iter().filter(|&&x| x > 0.0).count();
        // Unused when the level is empty: every bin then has x == 0 and is skipped or infinite.
        let q = match support {
            0 => 0.0,
            n => bins.iter().sum::<f64>() / n as f64 / q_total,
        };
        for (j, &x) in range.zip(bins) {
            let p = if j == kept - 1 { x + outliers } else { x };
            if p == 0.0 {
                continue;
            }
            // Outliers piled onto an empty last bin: Q has no mass there.
            if x == 0.0 {
                return f64::INFINITY;
            }
            let p = p / p_total;
            kl += p * (p / q).ln();
        }
    }
    kl
}

#[cfg(test)]
mod tests {
    use super::super::histogram::NUM_BINS;
    use super::super::scale_from_amax;
    use super::*;

    fn hist(absmax: f32, fill: impl Fn(usize) -> u64) -> Histogram {
        let mut h = Histogram::new(absmax);
        for (j, b) in h.bins.iter_mut().enumerate() {
            *b = fill(j);
        }
        h
    }

    #[test]
    fn mass_below_128_bins_keeps_128() {
        // Irregular counts so no coarser merge reproduces them exactly.
        let h = hist(4.0, |j| if j < 100 { (j * 37 % 11) as u64 + 1 } else { 0 });
        let want = 128.5 / 2048.0 * 4.0;
        assert_eq!(amax_v2(&h), want);
        assert_eq!(amax_v1(&h), want);
    }

    #[test]
    fn uniform_histogram_keeps_all_2048_bins() {
        // Only kept = 2048 has no outliers, so only there is P == Q (KL = 0); the threshold is
        // half a bin past absmax, like TensorRT's published softmax scales.
        let h = hist(2.0, |_| 5);
        let want = 2048.5 / 2048.0 * 2.0;
        assert_eq!(amax_v2(&h), want);
        assert_eq!(amax_v1(&h), want);
    }

    #[test]
    fn spike_with_sparse_tail_clips_well_below_absmax() {
        let h = hist(100.0, |j| match j {
            0..40 => (1e6 * (-(j as f64) / 8.0).exp()) as u64,
            300 => 3,
            800 | 1400 | 2047 => 1,
            _ => 0,
        });
        for amax in [amax_v2(&h), amax_v1(&h)] {
            assert!(amax < 25.0, "amax {amax} should clip the sparse tail");
            assert!(amax >= 128.5 / 2048.0 * 100.0);
        }
    }

    #[test]
    fn empty_histogram_falls_back_to_absmax() {
        let h = Histogram::new(3.5);
        assert_eq!(amax_v2(&h), 3.5);
        assert_eq!(amax_v1(&h), 3.5);
    }

    #[test]
    fn published_mnist_scales_follow_from_kept_bin_counts() {
        // sampleINT8 input pixels span [0, 255]; TensorRT's v1 cache has data: 40000889 and a
        // softmax-sized scale 4000890a for the same absmax.
        assert_eq!(
            scale_from_amax(amax_for_kept(2040, 255.0, NUM_BINS)).to_bits(),
            0x4000_0889
        );
        assert_eq!(
            scale_from_amax(amax_for_kept(2048, 255.0, NUM_BINS)).to_bits(),
            0x4000_890a
        );
    }

    const TINY: [f64; 12] = [5.0, 0.0, 3.0, 8.0, 1.0, 0.0, 0.0, 2.0, 0.0, 1.0, 0.0, 4.0];

    fn tiny_normalised() -> Vec<f64> {
        let total: f64 = TINY.iter().sum();
        TINY.iter().map(|x| x / total).collect()
    }

    fn assert_curves_match(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let same = (g.is_infinite() && w.is_infinite() && g.signum() == w.signum())
                || (g - w).abs() <= 1e-12 * w.abs().max(1e-300);
            assert!(same, "candidate {i}: {g} vs reference {w}");
        }
    }

    /// Independent v2: split every bin into `levels` equal sub-bins, so level k owns exactly
    /// sub-bins [k * kept, (k + 1) * kept) and no fractional edge logic is needed.
    fn reference_v2(h: &[f64], levels: usize) -> Vec<f64> {
        let mut curve = Vec::new();
        for kept in levels..=h.len() {
            let sub: Vec<f64> = (0..kept * levels)
                .map(|s| h[s / levels] / levels as f64)
                .collect();
            let width = kept as f64 / levels as f64;
            let mut e = vec![1e-4; kept];
            for k in 0..levels {
                let owned = k * kept..(k + 1) * kept;
                let mean = sub[owned.clone()].iter().sum::<f64>() / width;
                for s in owned {
                    e[s / levels] += mean / levels as f64;
                }
            }
            let outliers: f64 = h[kept..].iter().sum();
            let kl: f64 = (0..kept)
                .map(|j| {
                    let p = 1e-4 + h[j] + if j == kept - 1 { outliers } else { 0.0 };
                    p * (p / e[j]).ln()
                })
                .sum();
            curve.push(kl);
        }
        curve
    }

    /// Independent v1, numpy style: levels from float `linspace` edges and `digitize`.
    fn reference_v1(h: &[f64], levels: usize) -> Vec<f64> {
        let mut curve = Vec::new();
        for kept in levels..=h.len() {
            let edges: Vec<f64> = (0..=levels)
                .map(|k| k as f64 * kept as f64 / levels as f64)
                .collect();
            let level: Vec<usize> = (0..kept)
                .map(|j| edges.iter().filter(|&&e| e <= j as f64).count() - 1)
                .collect();
            let mut p: Vec<f64> = h[..kept].to_vec();
            p[kept - 1] += h[kept..].iter().sum::<f64>();
            let p_sum: f64 = p.iter().sum();
            let mut q = vec![0.0; kept];
            for k in 0..levels {
                let members: Vec<usize> =
                    (0..kept).filter(|&j| level[j] == k && h[j] > 0.0).collect();
                let sum: f64 = members.iter().map(|&j| h[j]).sum();
                for &j in &members {
                    q[j] = sum / members.len() as f64;
                }
            }
            let q_sum: f64 = q.iter().sum();
            let mut kl = 0.0;
            for j in 0..kept {
                let (pj, qj) = (p[j] / p_sum, q[j] / q_sum);
                if pj > 0.0 {
                    kl += if qj > 0.0 {
                        pj * (pj / qj).ln()
                    } else {
                        f64::INFINITY
                    };
                }
            }
            curve.push(kl);
        }
        curve
    }

    #[test]
    fn v2_curve_matches_independent_reimplementation() {
        let h = tiny_normalised();
        assert_curves_match(
            &divergence_curve(&h, 4, divergence_v2),
            &reference_v2(&h, 4),
        );
    }

    #[test]
    fn v1_curve_matches_independent_reimplementation() {
        let h = tiny_normalised();
        let got = divergence_curve(&h, 4, divergence_v1);
        assert!(got.iter().any(|d| d.is_infinite()) && got.iter().any(|d| d.is_finite()));
        assert_curves_match(&got, &reference_v1(&h, 4));
    }

    #[test]
    fn overlaps_cover_each_level_with_its_width() {
        for kept in [128, 129, 200, 1000, 2047, 2048] {
            let mut per_bin = vec![0.0; kept];
            for k in 0..LEVELS {
                let mut width = 0.0;
                for_each_overlap(k, kept, LEVELS, |j, w| {
                    width += w;
                    per_bin[j] += w;
                });
                assert_eq!(width, kept as f64 / LEVELS as f64, "kept {kept} level {k}");
            }
            assert!(per_bin.iter().all(|&w| w == 1.0), "kept {kept}");
        }
    }
}
