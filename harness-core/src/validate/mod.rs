//! protoc-gen-validate rules, enforced on a decoded configuration message.
