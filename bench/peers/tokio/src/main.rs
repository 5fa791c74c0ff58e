//! tokio peer for W8 (queue hand-off) and W9 (semaphore-bounded fan-out), current_thread
//! runtime. Usage: peer-tokio W8|W9 [label]; prints one KEY=VALUE line like asyncio_bench.
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::yield_now;

async fn w8(label: &str) {
    const ITEMS: i64 = 1_000_000;
    let t0 = Instant::now();
    let (tx, mut rx) = mpsc::channel::<i64>(64);
    let consumer = tokio::spawn(async move {
        let mut sum = 0i64;
        for _ in 0..ITEMS {
            sum += rx.recv().await.unwrap();
        }
        sum
    });
    let producer = tokio::spawn(async move {
        for i in 0..ITEMS {
            tx.send(i).await.unwrap();
        }
    });
    let sum = consumer.await.unwrap();
    producer.await.unwrap();
    let s = t0.elapsed().as_secs_f64();
    assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
    println!("W8 {label} ns_per_item={:.1} wall_s={s:.3}", s * 1e9 / ITEMS as f64);
}

async fn w9(label: &str) {
    const TASKS: usize = 100_000;
    let sem = Arc::new(Semaphore::new(100));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let sem = sem.clone();
            tokio::spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                yield_now().await;
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let s = t0.elapsed().as_secs_f64();
    println!("W9 {label} ns_per_task={:.1} wall_s={s:.3}", s * 1e9 / TASKS as f64);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: peer-tokio W8|W9 [label]");
        std::process::exit(2);
    }
    let label = args.get(2).cloned().unwrap_or_else(|| "tokio".to_string());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    match args[1].as_str() {
        "W8" => rt.block_on(w8(&label)),
        "W9" => rt.block_on(w9(&label)),
        w => {
            eprintln!("unknown workload {w}");
            std::process::exit(2);
        }
    }
}
