// UDP echo peer: tokio's UdpSocket on 127.0.0.1:PORT in a current_thread runtime, one task
// receiving a datagram and sending it back to its sender.
use tokio::net::UdpSocket;

fn main() {
    let port: u16 = match std::env::args().nth(1).and_then(|p| p.parse().ok()) {
        Some(p) => p,
        None => {
            eprintln!("usage: tokio-udp-bench PORT");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    rt.block_on(async move {
        let sock = UdpSocket::bind(("127.0.0.1", port)).await.expect("bind");
        let mut buf = vec![0u8; 65536];
        loop {
            if let Ok((n, from)) = sock.recv_from(&mut buf).await {
                let _ = sock.send_to(&buf[..n], from).await;
            }
        }
    });
}
