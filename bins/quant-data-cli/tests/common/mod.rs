//! What the binary's test files share: local fake servers.

#![allow(dead_code, clippy::unwrap_used)]

/// Serves `app` on 127.0.0.1, on a port of its own, from a background
/// thread with its own runtime; returns `http://127.0.0.1:PORT`.
pub fn serve(app: axum::Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}
