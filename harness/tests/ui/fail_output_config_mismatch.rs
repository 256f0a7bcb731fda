// What the generated code does for a field `harness.postgres.Pool server = 1` whose wire
// type string names an HTTP server: the wire does not take that message.
use harness::proto::harness::{http, postgres};
use harness::runtime::{OutputWire, Outputs, Shutdown, WireError};

pub struct Server;

impl OutputWire<http::Server> for Server {
    async fn serve(self, _config: http::Server, _shutdown: Shutdown) -> Result<(), WireError> {
        Ok(())
    }
}

pub fn serve(outputs: &mut Outputs, server: Option<postgres::Pool>) {
    outputs.wire("server", server).serve::<Server>(Server);
}

fn main() {}
