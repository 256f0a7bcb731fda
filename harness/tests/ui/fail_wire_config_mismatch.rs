// What the generated code does for a field `harness.http.Server db = 1` whose wire type
// string names a PostgreSQL pool: the wire does not take that message.
use harness::proto::harness::{http, postgres};
use harness::runtime::{InputWire, Inputs, WireError};

pub struct Pool;

impl InputWire<postgres::Pool> for Pool {
    async fn connect(_config: &postgres::Pool) -> Result<Self, WireError> {
        Ok(Pool)
    }
}

pub async fn connect(inputs: &Inputs, db: Option<&http::Server>) {
    let _ = inputs.wire(0, "db", db).required::<Pool>().await;
}

fn main() {}
