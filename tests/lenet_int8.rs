//! Issue 4 on the CPU: LeNet on MNIST in FP32, FP16 and INT8 (every calibration algorithm), scored on
//! images 500-9999 after calibrating on images 0-499 (batches of 50), as sampleINT8 does; cache
//! determinism and the cache round trip. Accuracy bounds are the issue's, in points (1 point = 1%).

mod caffe_support;

use std::path::Path;
use std::sync::Arc;

use infer8::builder::{BuilderConfig, Calibrator, build_engine};
use infer8::data::mnist;
use infer8::engine::context::HostBinding;
use infer8::engine::{Engine, ExecutionContext};
use infer8::logger::NullLogger;
use infer8::network::Network;
use infer8::parser::CaffeParser;
use infer8::types::{CalibrationAlgoType, DataType};

const CAL_BATCH: usize = 50;
const CAL_IMAGES: usize = 500;
const SCORE_BATCH: usize = 100;

struct Mnist {
    images: Vec<f32>,
    labels: Vec<u8>,
}

fn mnist(data: &Path) -> Mnist {
    let m = data.join("mnist");
    let images = mnist::read_images(&m.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let labels = mnist::read_labels(&m.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    Mnist {
        images: images.normalized(0, images.count),
        labels,
    }
}

/// Feeds fixed batches; records the cache it is given.
struct TestCalibrator {
    batches: Vec<Vec<f32>>,
    next: usize,
    algorithm: CalibrationAlgoType,
    cache_in: Option<Vec<u8>>,
    cache_out: Option<Vec<u8>>,
    legacy: (f64, f64),
    histograms_in: Option<Vec<u8>>,
    histograms_out: Option<Vec<u8>>,
    batches_given: usize,
}

impl TestCalibrator {
    fn new(m: &Mnist, algorithm: CalibrationAlgoType, order: &[usize]) -> Self {
        let size = CAL_BATCH * 784;
        let batches = order
            .iter()
            .map(|&b| m.images[b * size..(b + 1) * size].to_vec())
            .collect();
        TestCalibrator {
            batches,
            next: 0,
            algorithm,
            cache_in: None,
            cache_out: None,
            legacy: (1.0 - 1e-6, 1.0),
            histograms_in: None,
            histograms_out: None,
            batches_given: 0,
        }
    }
}

impl Calibrator for TestCalibrator {
    fn batch_size(&mut self) -> usize {
        CAL_BATCH
    }
    fn get_batch(&mut self, names: &[&str], buffers: &mut [&mut [f32]]) -> bool {
        assert_eq!(names, ["data"]);
        let Some(b) = self.batches.get(self.next) else {
            return false;
        };
        buffers[0].copy_from_slice(b);
        self.next += 1;
        self.batches_given += 1;
        true
    }
    fn read_calibration_cache(&mut self) -> Option<Vec<u8>> {
        self.cache_in.clone()
    }
    fn write_calibration_cache(&mut self, cache: &[u8]) {
        self.cache_out = Some(cache.to_vec());
    }
    fn algorithm(&mut self) -> CalibrationAlgoType {
        self.algorithm
    }
    fn legacy_parameters(&mut self) -> Option<(f64, f64)> {
        Some(self.legacy)
    }
    fn read_histogram_cache(&mut self) -> Option<Vec<u8>> {
        self.histograms_in.clone()
    }
    fn write_histogram_cache(&mut self, cache: &[u8]) {
        self.histograms_out = Some(cache.to_vec());
    }
}

fn lenet(data: &Path, weights: DataType) -> Network {
    let mut net = Network::new();
    let models = data.join("models/lenet");
    let blobs = CaffeParser::new()
        .parse(
            &models.join("lenet.prototxt"),
            Some(&models.join("lenet_iter_10000.caffemodel")),
            &mut net,
            weights,
        )
        .unwrap();
    net.mark_output(blobs.find("prob").unwrap()).unwrap();
    net
}

fn build(
    data: &Path,
    fp16: bool,
    int8: bool,
    calibrator: Option<&mut dyn Calibrator>,
) -> Arc<Engine> {
    let net = lenet(
        data,
        if fp16 {
            DataType::Half
        } else {
            DataType::Float
        },
    );
    let config = BuilderConfig {
        max_batch_size: SCORE_BATCH,
        fp16,
        int8,
        ..Default::default()
    };
    Arc::new(build_engine(&net, &config, calibrator, &NullLogger).unwrap())
}

/// Probabilities of images `[first, first + count)`.
fn run(engine: &Arc<Engine>, m: &Mnist, first: usize, count: usize) -> Vec<f32> {
    let mut ctx = ExecutionContext::new(Arc::clone(engine)).unwrap();
    let mut probs = vec![0f32; count * 10];
    for (b, out) in probs.chunks_mut(SCORE_BATCH * 10).enumerate() {
        let start = (first + b * SCORE_BATCH) * 784;
        let input = &m.images[start..start + SCORE_BATCH * 784];
        let mut out_bytes = vec![0u8; out.len() * 4];
        let in_bytes: Vec<u8> = input.iter().flat_map(|v| v.to_ne_bytes()).collect();
        ctx.execute(
            SCORE_BATCH,
            &mut [
                HostBinding::Input(&in_bytes),
                HostBinding::Output(&mut out_bytes),
            ],
        )
        .unwrap();
        for (o, c) in out.iter_mut().zip(out_bytes.chunks_exact(4)) {
            *o = f32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    probs
}

fn top1(probs: &[f32], labels: &[u8]) -> f64 {
    let hits = probs
        .chunks(10)
        .zip(labels)
        .filter(|(p, l)| p.iter().filter(|&&v| v >= p[**l as usize]).count() <= 1)
        .count();
    100.0 * hits as f64 / labels.len() as f64
}

const FIRST: usize = 500;
const COUNT: usize = 9500;

#[test]
fn precisions_and_algorithms_keep_lenet_accuracy() {
    let Some(data) = caffe_support::data_dir() else {
        return;
    };
    let m = mnist(&data);
    let labels = &m.labels[FIRST..FIRST + COUNT];
    let fp32 = top1(
        &run(&build(&data, false, false, None), &m, FIRST, COUNT),
        labels,
    );
    let fp16 = top1(
        &run(&build(&data, true, false, None), &m, FIRST, COUNT),
        labels,
    );
    println!("FP32 top-1 {fp32:.2}%, FP16 {fp16:.2}%");
    assert!(fp32 >= 99.0, "FP32 top-1 {fp32}");
    assert!((fp16 - fp32).abs() <= 0.05, "FP16 {fp16} vs FP32 {fp32}");
    let order: Vec<usize> = (0..CAL_IMAGES / CAL_BATCH).collect();
    for (alg, bound) in [
        (CalibrationAlgoType::Entropy2, 0.1),
        (CalibrationAlgoType::Entropy, 0.3),
        (CalibrationAlgoType::MinMax, 0.3),
        (CalibrationAlgoType::Legacy, 0.3),
    ] {
        let mut cal = TestCalibrator::new(&m, alg, &order);
        let int8 = top1(
            &run(&build(&data, false, true, Some(&mut cal)), &m, FIRST, COUNT),
            labels,
        );
        println!("INT8 {alg:?} top-1 {int8:.2}%");
        assert!(
            (int8 - fp32).abs() <= bound,
            "INT8 {alg:?} {int8} vs FP32 {fp32} (bound {bound} points)"
        );
    }
}

#[test]
fn calibration_cache_is_deterministic_and_round_trips() {
    let Some(data) = caffe_support::data_dir() else {
        return;
    };
    let m = mnist(&data);
    let order: Vec<usize> = (0..CAL_IMAGES / CAL_BATCH).collect();
    let shuffled = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5];
    let mut caches = Vec::new();
    let mut engines = Vec::new();
    for o in [&order[..], &order[..], &shuffled[..]] {
        let mut cal = TestCalibrator::new(&m, CalibrationAlgoType::Entropy2, o);
        engines.push(build(&data, false, true, Some(&mut cal)));
        caches.push(cal.cache_out.expect("the builder wrote a cache"));
    }
    assert_eq!(caches[0], caches[1], "same batches, different cache");
    assert_eq!(caches[0], caches[2], "shuffled batches, different cache");
    let text = String::from_utf8(caches[0].clone()).unwrap();
    assert!(text.starts_with("TRT-5105-EntropyCalibration2\n"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("data: "))
            && text.lines().any(|l| l.starts_with("prob: ")),
        "{text}"
    );

    // From the cache alone: no batches at all.
    let mut from_cache = TestCalibrator::new(&m, CalibrationAlgoType::Entropy2, &[]);
    from_cache.cache_in = Some(caches[0].clone());
    let cached = build(&data, false, true, Some(&mut from_cache));
    assert!(
        from_cache.cache_out.is_none(),
        "calibrated again despite a valid cache"
    );
    let a = run(&engines[0], &m, FIRST, 1000);
    let b = run(&cached, &m, FIRST, 1000);
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
        "INT8 outputs differ after the cache round trip"
    );
}

/// The legacy calibrator's grid search: histograms collected once (with any parameters) and handed
/// back through `readHistogramCache` give, for other parameters, the same scales bit for bit as
/// running the batches again, and no batch is asked for.
#[test]
fn legacy_histogram_cache_gives_the_same_scales_as_the_batches() {
    let Some(data) = caffe_support::data_dir() else {
        return;
    };
    let m = mnist(&data);
    let order: Vec<usize> = (0..CAL_IMAGES / CAL_BATCH).collect();
    let mut first = TestCalibrator::new(&m, CalibrationAlgoType::Legacy, &order);
    build(&data, false, true, Some(&mut first));
    let histograms = first.histograms_out.expect("no histogram cache written");
    for legacy in [(0.999, 0.5), (0.9999, 0.6), (1.0 - 1e-6, 1.0)] {
        let mut batches = TestCalibrator::new(&m, CalibrationAlgoType::Legacy, &order);
        batches.legacy = legacy;
        let a = build(&data, false, true, Some(&mut batches));
        let mut cached = TestCalibrator::new(&m, CalibrationAlgoType::Legacy, &order);
        cached.legacy = legacy;
        cached.histograms_in = Some(histograms.clone());
        let b = build(&data, false, true, Some(&mut cached));
        assert_eq!(cached.batches_given, 0, "{legacy:?}: batches run");
        assert_eq!(
            cached.histograms_out, None,
            "{legacy:?}: histograms rewritten"
        );
        assert_eq!(
            batches.cache_out, cached.cache_out,
            "{legacy:?}: the scales differ"
        );
        let (pa, pb) = (run(&a, &m, FIRST, 500), run(&b, &m, FIRST, 500));
        assert!(
            pa.iter().zip(&pb).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{legacy:?}: INT8 outputs differ"
        );
    }
}
