//! Procedural macros of harness; use them through the `harness` crate (`#[harness::main]`).

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Signature, Type};

/// See `harness::main`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let function = match syn::parse::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            let mut out = proc_macro2::TokenStream::from(item);
            out.extend(quote!(
                fn main() {}
            ));
            out.extend(
                syn::Error::new(
                    error.span(),
                    "#[harness::main] goes on `async fn setup(config: Configuration, wires: WiresIn) -> Result<WiresOut, E>`",
                )
                .to_compile_error(),
            );
            return out.into();
        }
    };
    match expand(args, &function) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            // Keep the function and a `main`, so that the error above is the only one.
            let mut out = quote! {
                #function
                fn main() {}
            };
            out.extend(error.to_compile_error());
            out.into()
        }
    }
}

fn expand(
    args: proc_macro2::TokenStream,
    function: &ItemFn,
) -> syn::Result<proc_macro2::TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new(
            args.span(),
            "#[harness::main] takes no arguments; tune the runner with `--grace-period` or write `main` with `harness::runtime::Runner`",
        ));
    }
    let sig = &function.sig;
    check_kind(sig)?;
    let (config_ty, wires_ty) = parameter_types(sig)?;
    let ReturnType::Type(_, output) = &sig.output else {
        return Err(syn::Error::new(
            sig.paren_token.span.close(),
            "#[harness::main] needs a return type: `-> Result<WiresOut, E>` (e.g. `anyhow::Result<WiresOut>`)",
        ));
    };
    let type_checks = type_checks(config_ty, wires_ty, output);
    let ident = &sig.ident;
    let call = quote_spanned! {Span::call_site()=>
        ::harness::runtime::Runner::new().run::<#config_ty, _, _, _>(#ident)
    };
    Ok(quote! {
        #function

        fn main() -> ::std::process::ExitCode {
            #[allow(clippy::items_after_statements)]
            {
                #type_checks
            }
            #call
        }
    })
}

/// A plain `async fn` not named `main`: not generic, not variadic.
fn check_kind(sig: &Signature) -> syn::Result<()> {
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "#[harness::main] needs an `async fn`: `async fn setup(config: Configuration, wires: WiresIn) -> Result<WiresOut, E>`",
        ));
    }
    if sig.ident == "main" {
        return Err(syn::Error::new(
            sig.ident.span(),
            "#[harness::main] writes `main` itself: name this function `setup` (or anything but `main`)",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "#[harness::main] functions cannot be generic: take the generated `Configuration` and `WiresIn`",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "#[harness::main] functions cannot be variadic",
        ));
    }
    Ok(())
}

/// The types of the two parameters, the configuration and the input wires.
fn parameter_types(sig: &Signature) -> syn::Result<(&Type, &Type)> {
    let mut types: Vec<&Type> = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new(
                    receiver.span(),
                    "#[harness::main] goes on a free function, not a method",
                ));
            }
            FnArg::Typed(typed) => types.push(&typed.ty),
        }
    }
    if types.len() != 2 {
        let span = if sig.inputs.is_empty() {
            sig.paren_token.span.join()
        } else {
            sig.inputs.span()
        };
        return Err(syn::Error::new(
            span,
            format!(
                "#[harness::main] needs two parameters, `config: Configuration, wires: WiresIn`; found {}",
                types.len()
            ),
        ));
    }
    Ok((types[0], types[1]))
}

/// Checks spanned on the user's types, so a mismatch points at them.
fn type_checks(config_ty: &Type, wires_ty: &Type, output: &Type) -> proc_macro2::TokenStream {
    let config_check = quote_spanned! {config_ty.span()=>
        fn __harness_config_is_wiring<S: ::harness::runtime::Wiring>() {}
        __harness_config_is_wiring::<#config_ty>();
    };
    let wires_check = quote_spanned! {wires_ty.span()=>
        fn __harness_wires_in_of<S: ::harness::runtime::Wiring<WiresIn = W>, W>() {}
        __harness_wires_in_of::<#config_ty, #wires_ty>();
    };
    let output_check = quote_spanned! {output.span()=>
        fn __harness_returns<S: ::harness::runtime::Wiring, E>(
            _: fn(::core::result::Result<<S as ::harness::runtime::Wiring>::WiresOut, E>),
        ) where E: ::core::convert::Into<::harness::runtime::BoxError> {}
        __harness_returns::<#config_ty, _>(|_: #output| {});
    };
    quote! {
        #config_check
        #wires_check
        #output_check
    }
}
