//! The `.flow` language server (issue 4), built on the compiler. Empty for now.
