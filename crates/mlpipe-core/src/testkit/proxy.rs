//! A TCP proxy a test can cut and restore, to lose the connection to a shared server
//! without stopping the server (other tests use it at the same time): the connection-loss
//! tests of every network backend use it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// Forwards connections from a local port to `target` until [`Proxy::cut`].
pub struct Proxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// A proxy on a free port.
    pub async fn start(target: SocketAddr) -> Self {
        let mut p = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            target,
            tasks: Arc::default(),
        };
        p.listen().await;
        p
    }

    async fn listen(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(64).unwrap();
        self.addr = listener.local_addr().unwrap();
        let target = self.target;
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes the port and every forwarded connection.
    pub fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&mut self) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        self.listen().await;
    }
}

/// `host:port` of a `scheme://host:port[/…]` URL.
pub fn socket_of(url: &str) -> SocketAddr {
    let rest = url.split("://").nth(1).unwrap();
    let hostport = rest.split(['/', '?']).next().unwrap();
    let hostport = hostport.rsplit('@').next().unwrap();
    hostport.parse().unwrap()
}
