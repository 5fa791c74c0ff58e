// TT peer: tokio's spawn_blocking round trip on a current-thread runtime (as our loop): submit
// a no-op closure to the blocking pool, await its JoinHandle; ns per call, one in flight.
use std::time::Instant;

const ROUND_TRIPS: u32 = 20_000;

fn main() {
    let label = std::env::args().nth(1).unwrap_or_else(|| "tokio".to_string());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let secs = rt.block_on(async {
        tokio::task::spawn_blocking(|| ()).await.unwrap(); // warm-up: first pool thread
        let t0 = Instant::now();
        for _ in 0..ROUND_TRIPS {
            tokio::task::spawn_blocking(|| ()).await.unwrap();
        }
        t0.elapsed().as_secs_f64()
    });
    println!("TT {} ns_per_call={:.1} wall_s={:.3}", label, secs * 1e9 / ROUND_TRIPS as f64, secs);
}
