//! `WiresIn`, `WiresOut` and the `harness::runtime::Wiring` implementation of a service.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use std::path::Path;

use harness_core::spec::{ConfigSpec, Direction, WireSpec};
use harness_core::{contract, protos};

use super::{DESCRIPTOR_FILE, Error};

/// A wire with its Rust pieces parsed.
struct Wire<'a> {
    spec: &'a WireSpec,
    ident: Ident,
    ty: syn::Path,
}

/// The wiring of the service `spec`, whose proto is the file at `proto`.
pub(crate) fn generate(
    spec: &ConfigSpec,
    proto: &Path,
    config_module: &[String],
) -> Result<String, Error> {
    let (inputs, outputs) = parse_wires(spec, proto)?;
    let reexport = reexport(config_module);
    let full_name = spec.message.full_name();
    let wire_structs = wire_structs(full_name, &inputs, &outputs);
    let connect_body = connect_body(&inputs);
    let outputs_body = outputs_body(&outputs);
    let descriptor_file = format!("/{DESCRIPTOR_FILE}");
    let feature_checks = spec.wires.iter().filter_map(feature_check);

    let tokens: TokenStream = quote! {
        #reexport

        #(#feature_checks)*

        /// The encoded `FileDescriptorSet` of the service's proto and its imports, e.g. for
        /// gRPC server reflection.
        #[allow(dead_code)]
        pub const FILE_DESCRIPTOR_SET: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), #descriptor_file));

        #wire_structs

        impl ::harness::runtime::Wiring for Configuration {
            type WiresIn = WiresIn;
            type WiresOut = WiresOut;
            const FILE_DESCRIPTOR_SET: &'static [u8] = FILE_DESCRIPTOR_SET;
            const MESSAGE: &'static str = #full_name;

            async fn connect(
                &self,
                inputs: &::harness::runtime::Inputs,
            ) -> ::core::result::Result<WiresIn, ::harness::runtime::StartError> {
                #connect_body
            }

            fn outputs(
                &self,
            ) -> impl ::core::ops::FnOnce(WiresOut, &mut ::harness::runtime::Outputs)
                   + ::core::marker::Send
                   + 'static {
                #outputs_body
            }
        }
    };
    Ok(tokens.to_string())
}

/// The wires of `spec` with their Rust types parsed, split into inputs and outputs.
fn parse_wires<'a>(
    spec: &'a ConfigSpec,
    proto: &Path,
) -> Result<(Vec<Wire<'a>>, Vec<Wire<'a>>), Error> {
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    for wire in &spec.wires {
        let ty: syn::Path =
            syn::parse_str(wire.rust_type.trim()).map_err(|source| Error::WireType {
                location: field_location(proto, spec, wire),
                rust_type: wire.rust_type.clone(),
                source,
            })?;
        let parsed = Wire {
            spec: wire,
            ident: field_ident(&wire.name),
            ty,
        };
        match wire.direction {
            Direction::Input(_) => inputs.push(parsed),
            Direction::Output(_) => outputs.push(parsed),
        }
    }
    Ok((inputs, outputs))
}

/// `pub use …::Configuration` from the module of the config message, if it is nested.
fn reexport(config_module: &[String]) -> TokenStream {
    let module_path: Vec<Ident> = config_module.iter().map(|m| field_ident(m)).collect();
    if module_path.is_empty() {
        quote! {}
    } else {
        quote! { pub use self::#(#module_path)::*::Configuration; }
    }
}

/// The structs `WiresIn` (optional inputs as `Option`) and `WiresOut`.
fn wire_structs(full_name: &str, inputs: &[Wire<'_>], outputs: &[Wire<'_>]) -> TokenStream {
    let in_fields = inputs.iter().map(|wire| {
        let Wire {
            ident, ty, spec, ..
        } = wire;
        let doc = doc(spec);
        if spec.required {
            quote! { #[doc = #doc] pub #ident: #ty, }
        } else {
            quote! { #[doc = #doc] pub #ident: ::core::option::Option<#ty>, }
        }
    });
    let out_fields = outputs.iter().map(|wire| {
        let Wire {
            ident, ty, spec, ..
        } = wire;
        let doc = doc(spec);
        quote! { #[doc = #doc] pub #ident: #ty, }
    });
    let wires_in_doc = format!(
        " Input wires of `{full_name}`, connected before `setup` runs; optional ones are `None` when not configured."
    );
    let wires_out_doc =
        format!(" Output wires of `{full_name}`, built by `setup` and served until shutdown.");
    quote! {
        #[doc = #wires_in_doc]
        #[allow(dead_code)]
        pub struct WiresIn {
            #(#in_fields)*
        }

        #[doc = #wires_out_doc]
        pub struct WiresOut {
            #(#out_fields)*
        }
    }
}

/// `Wiring::outputs`: takes each output's config now and serves the wire `setup` built.
fn outputs_body(outputs: &[Wire<'_>]) -> TokenStream {
    let output_configs = outputs.iter().map(|w| {
        let ident = &w.ident;
        quote! { let #ident = self.#ident.clone(); }
    });
    let serve_calls = outputs.iter().map(|w| {
        let Wire {
            ident, ty, spec, ..
        } = w;
        let name = &spec.name;
        quote! { outputs.wire(#name, #ident).serve::<#ty>(wires.#ident); }
    });
    let (wires_arg, outputs_arg) = if outputs.is_empty() {
        (quote!(_wires), quote!(_outputs))
    } else {
        (quote!(wires), quote!(outputs))
    };
    quote! {
        #(#output_configs)*
        move |#wires_arg: WiresOut, #outputs_arg: &mut ::harness::runtime::Outputs| {
            #(#serve_calls)*
        }
    }
}

/// `Wiring::connect`: the log outputs first, so that every line the service logs is
/// written by them, then every other input, each group concurrently.
fn connect_body(inputs: &[Wire<'_>]) -> TokenStream {
    if inputs.is_empty() {
        return quote! {
            let _ = inputs;
            ::core::result::Result::Ok(WiresIn {})
        };
    }
    let connect = |index: usize, wire: &Wire<'_>| {
        let Wire { ident, ty, spec } = wire;
        let name = &spec.name;
        let method = if spec.required {
            quote!(required)
        } else {
            quote!(optional)
        };
        quote! { inputs.wire(#index, #name, self.#ident.as_ref()).#method::<#ty>() }
    };
    let (logs, rest): (Vec<_>, Vec<_>) = inputs
        .iter()
        .enumerate()
        .partition(|(_, wire)| contract::is_log_output(&wire.spec.config_type));
    let group = |group: &[(usize, &Wire<'_>)]| {
        if group.is_empty() {
            return quote! {};
        }
        let names = group.iter().map(|(_, w)| &w.ident);
        let calls = group.iter().map(|(index, wire)| connect(*index, wire));
        quote! {
            let (#(#names,)*) = ::harness::runtime::__private::try_join!(#(#calls),*)?;
        }
    };
    let (logs, rest) = (group(&logs), group(&rest));
    let names = inputs.iter().map(|w| &w.ident);
    quote! {
        #logs
        #rest
        ::core::result::Result::Ok(WiresIn { #(#names),* })
    }
}

/// For a wire of harness-wires, the check that its cargo feature is on: the build then
/// fails with the feature to add, not with an unresolved path.
fn feature_check(wire: &WireSpec) -> Option<TokenStream> {
    let ty: syn::Path = syn::parse_str(wire.rust_type.trim()).ok()?;
    let mut segments = ty.segments.iter();
    if segments.next()?.ident != "harness_wires" {
        return None;
    }
    let rest: Vec<&Ident> = segments.map(|segment| &segment.ident).collect();
    let name = &wire.name;
    Some(quote! { ::harness_wires::__require_wire!(#name, #(#rest)::*); })
}

/// `FILE:LINE:COLUMN: MESSAGE.FIELD` of a wire's field, for errors.
fn field_location(proto: &Path, spec: &ConfigSpec, wire: &WireSpec) -> String {
    let field = format!("{}.{}", spec.message.name(), wire.name);
    match protos::definition_position(proto, wire.field.path()) {
        Some((line, column)) => format!("{}:{line}:{column}: {field}", proto.display()),
        None => format!("{}: {field}", proto.display()),
    }
}

fn doc(spec: &WireSpec) -> String {
    let (name, message) = (&spec.name, &spec.config_type);
    match spec.direction {
        Direction::Input(_) if spec.required => {
            format!(" `{name}`: input wire configured by `{message}`, required.")
        }
        Direction::Input(_) => format!(
            " `{name}`: input wire configured by `{message}`, optional: `None` when the \
             configuration leaves it out, which `harness check` accepts because the field has \
             no `(validate.rules).message.required = true`. Add that rule to make the wire \
             required (and this field the wire itself) rather than unwrapping it."
        ),
        Direction::Output(_) => format!(" `{name}`: output wire configured by `{message}`."),
    }
}

/// A field or module name as a Rust identifier, raw when it is a keyword (as prost does).
fn field_ident(name: &str) -> Ident {
    match syn::parse_str::<Ident>(name) {
        Ok(ident) => ident,
        Err(_) => Ident::new_raw(name, Span::call_site()),
    }
}
