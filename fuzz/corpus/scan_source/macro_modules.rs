macro_rules! cfg_rt { ($($item:item)*) => { $( #[cfg(feature = "rt")] $item )* } }
cfg_if::cfg_if! {
    if #[cfg(unix)] { mod unix; } else if #[cfg(windows)] { #[path = "sys/win.rs"] mod windows; } else { mod other; }
}
cfg_rt! { pub(crate) mod runtime; cfg_if! { if #[cfg(test)] { mod nested; } } }
#[cfg_attr(unix, path = "unix_impl.rs")]
mod imp;
include!("generated/decls.rs");
macro_rules! crate_root { () => { mod de; #[cfg_attr(docsrs, path = "core/private/mod.rs")] mod private; }; }
crate_root!();
fn f() { #[path = "../utils/lazy.rs"] mod lazy; let t = include!("table.rs"); quote! { mod q; } }
const C: &str = stringify!(mod in_const;);
static S: Secret = declare!("Name");
