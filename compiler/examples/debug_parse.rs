fn main() {
    let path = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(&path).unwrap();
    let mut diags = flow_compiler::Diagnostics::default();
    let file = flow_compiler::syntax::lower(&src, &mut diags);
    if std::env::args().nth(2).is_some() {
        println!("{:#?}", file);
    }
    for d in diags.into_sorted() {
        let lc = flow_compiler::LineIndex::new(&src).line_col(&src, d.span.start);
        println!("{}:{}: {} {}", lc.line, lc.column, d.code, d.message);
    }
}
