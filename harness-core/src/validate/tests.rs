//! Tests of every rule family, on messages of small protos compiled in the test.
