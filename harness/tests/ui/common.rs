// A hand-written stand-in for what `harness_build` generates.
#[derive(Clone, PartialEq, ::harness::prost::Message)]
#[prost(prost_path = "::harness::prost")]
pub struct Configuration {
    #[prost(message, optional, tag = "1")]
    pub db: ::core::option::Option<::harness::proto::harness::postgres::Pool>,
}

pub struct WiresIn {}
pub struct WiresOut {}

impl ::harness::runtime::Wiring for Configuration {
    type WiresIn = WiresIn;
    type WiresOut = WiresOut;
    const FILE_DESCRIPTOR_SET: &'static [u8] = &[];
    const MESSAGE: &'static str = "test.Configuration";

    async fn connect(
        &self,
        _inputs: &::harness::runtime::Inputs,
    ) -> Result<WiresIn, ::harness::runtime::StartError> {
        Ok(WiresIn {})
    }

    fn outputs(
        &self,
    ) -> impl FnOnce(WiresOut, &mut ::harness::runtime::Outputs) + Send + 'static {
        |_, _| {}
    }
}
