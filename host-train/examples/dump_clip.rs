//! Writes one training clip of a two-stream model as PNGs (RGB and each flow plane), to look at
//! what the network is fed: `cargo run -p motus-train --example dump_clip -- DATA OUT [LABEL]`.
use motus_train::train::data::{make_clip, Augment, ClipGeometry};
use motus_train::train::videos::{load_split, LoadSettings};
use rand::SeedableRng;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (data, out) = (std::path::Path::new(&args[1]), std::path::Path::new(&args[2]));
    std::fs::create_dir_all(out)?;
    let mut ds = motus_lab::dataset::Dataset::open_split(data, "train")?;
    let label: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(0);
    ds.entries.retain(|e| e.label == label);
    ds.entries.truncate(3);
    let spec = motus_models::default_for("two-stream", 12)?;
    let g0 = spec.lower()?;
    let mut card = motus_models::ModelCard::for_spec(&spec, &g0, (0..12).map(|i| i.to_string()).collect());
    let flow = motus_core::flow::FlowConfig {
        algorithm: "tvl1".into(),
        params: motus_core::flow::TvL1Params::edge(),
        bound: 20.0,
        stack_len: 10,
        mean_subtraction: true,
    };
    card.flow = Some(flow.to_card());
    let g = ClipGeometry::from_card(&card)?;
    let cache = data.join("flow-cache");
    let settings = LoadSettings {
        resize_short: card.input.resize_short,
        flow: Some((&flow, cache.as_path())),
        window_len: g.window_len,
        spans: None,
        threads: 1,
    };
    let (videos, _) = load_split(&ds, "train", settings, "load")?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for (vi, v) in videos.iter().enumerate() {
        let mut outs: Vec<Vec<f32>> = g.input_lens().iter().map(|&l| vec![0.0; l]).collect();
        make_clip(v, &g, &Augment::default(), Some(&mut rng), None, &mut outs)?;
        let n = g.input_size as usize;
        let plane = n * n;
        let mut img = image::RgbImage::new(n as u32, n as u32);
        for (i, px) in img.pixels_mut().enumerate() {
            for c in 0..3 {
                px.0[c] = ((outs[0][c * plane + i] * 0.225 + 0.45) * 255.0).clamp(0.0, 255.0) as u8;
            }
        }
        img.save(out.join(format!("v{vi}_label{}_rgb.png", v.label)))?;
        let mut strip = image::GrayImage::new((n * 10) as u32, (n * 2) as u32);
        for l in 0..10 {
            for c in 0..2 {
                for i in 0..plane {
                    let val = outs[1][(2 * l + c) * plane + i];
                    strip.put_pixel(
                        (l * n + i % n) as u32,
                        (c * n + i / n) as u32,
                        image::Luma([((val * 4.0 + 1.0) * 127.5).clamp(0.0, 255.0) as u8]),
                    );
                }
            }
        }
        strip.save(out.join(format!("v{vi}_label{}_flow.png", v.label)))?;
        let mx = outs[1].iter().fold(0f32, |m, v| m.max(v.abs()));
        println!("video {vi} label {} flow max |v| {mx:.3} (x{:.1} px)", v.label, mx * 20.0);
    }
    Ok(())
}
