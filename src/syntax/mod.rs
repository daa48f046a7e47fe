//! Parsing `.nn` text into a syntax tree with spans.
//!
//! This is the only module that knows pest: `Rule` and `Pair` never leave it.
//! Invariant: every error it returns is located in the source it was given.

pub mod answer;
pub mod ast;

use num_bigint::BigInt;
use num_rational::BigRational;

use pest::Parser as _;
use pest::iterators::Pair;

use crate::diagnostic::{Diagnostic, Source, Span};
use ast::{BinaryOp, Declared, Expr, File, Ident, IndexArg, LeafKind, Query, Reference, Statement};

/// The pest parser generated from `grammar/network.pest`.
mod generated {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/network.pest"]
    pub struct NetworkGrammar;
}
use generated::{NetworkGrammar, Rule};

use crate::expr::index::MAX_INDEX_LITERAL;
use crate::limits::{
    MAX_BRACKET_DEPTH, MAX_EXPRESSION_DEPTH, MAX_LITERAL_DIGITS, MAX_LITERAL_EXPONENT,
};

/// Parses a whole `.nn` file. A long file is read by every core, a run of
/// whole lines each, and its statements kept in the file's order; the
/// first error in the file is the one reported.
pub fn parse_file(source: &Source) -> Result<File, Diagnostic> {
    let prepared = prepare(source)?;
    let workers = if prepared.len() >= PARALLEL_PARSE_BYTES {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    };
    let parts = runs_of_lines(&prepared, workers);
    let parsed: Vec<Result<Vec<Statement>, Diagnostic>> = match parts.as_slice() {
        [(offset, text)] => vec![parse_lines(source, *offset, text)],
        _ => std::thread::scope(|scope| {
            let readers: Vec<_> = parts
                .iter()
                .map(|(offset, text)| scope.spawn(move || parse_lines(source, *offset, text)))
                .collect();
            readers
                .into_iter()
                .map(|reader| {
                    reader
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        }),
    };
    let mut statements = Vec::new();
    for part in parsed {
        statements.extend(part?);
    }
    Ok(File { statements })
}

/// How long a file is before its parts are read side by side.
const PARALLEL_PARSE_BYTES: usize = 64 * 1024;

/// `text` cut into at most `parts` runs of whole lines of about equal
/// length, each with its offset.
fn runs_of_lines(text: &str, parts: usize) -> Vec<(usize, &str)> {
    let mut runs = Vec::with_capacity(parts);
    let mut start = 0;
    for part in 1..parts {
        let target = (text.len() * part / parts).max(start);
        let Some(newline) = text[target..].find('\n') else {
            break;
        };
        let end = target + newline + 1;
        runs.push((start, &text[start..end]));
        start = end;
    }
    runs.push((start, &text[start..]));
    runs
}

/// The statements of prepared lines that start at byte `offset` of the
/// file. After `prepare`, a newline outside brackets ends a statement:
/// each line is a file of its own.
fn parse_lines(
    source: &Source,
    mut offset: usize,
    lines: &str,
) -> Result<Vec<Statement>, Diagnostic> {
    let mut statements = Vec::new();
    for line in lines.split_inclusive('\n') {
        let at = Place { source, offset };
        offset += line.len();
        let line = line.strip_suffix('\n').unwrap_or(line);
        let mut pairs =
            NetworkGrammar::parse(Rule::file, line).map_err(|error| pest_error(at, &error))?;
        let file = pairs.next().expect("the file rule always yields one pair");
        for pair in file.into_inner() {
            if pair.as_rule() != Rule::EOI {
                statements.push(statement(at, pair)?);
            }
        }
    }
    Ok(statements)
}

/// Parses a query such as `dE/da[j]` on its own.
pub fn parse_query(source: &Source) -> Result<Query, Diagnostic> {
    let prepared = prepare(source)?;
    let at = Place::start(source);
    let mut pairs = NetworkGrammar::parse(Rule::query_only, &prepared)
        .map_err(|error| pest_error(at, &error))?;
    let query_pair = pairs
        .next()
        .and_then(|whole| whole.into_inner().next())
        .expect("query_only holds a query");
    at.query(query_pair)
}

/// Parses one expression on its own, as `chainrule diff` and answers need.
pub fn parse_expression(source: &Source) -> Result<Expr, Diagnostic> {
    let prepared = prepare(source)?;
    let at = Place::start(source);
    let mut pairs = NetworkGrammar::parse(Rule::expression_only, &prepared)
        .map_err(|error| pest_error(at, &error))?;
    let expr_pair = pairs
        .next()
        .and_then(|whole| whole.into_inner().next())
        .expect("expression_only holds an expression");
    expression(at, expr_pair)
}

/// Blanks comments, the newlines inside brackets, tabs and carriage returns
/// (whitespace everywhere), keeping every byte offset, so that the grammar's
/// whitespace is one character; refuses nesting deeper than
/// [`MAX_BRACKET_DEPTH`].
fn prepare(source: &Source) -> Result<String, Diagnostic> {
    let mut out = source.text.as_bytes().to_vec();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    for (offset, byte) in source.text.bytes().enumerate() {
        if byte == b'\n' {
            in_string = false;
            in_comment = false;
            if depth > 0 {
                out[offset] = b' ';
            }
            continue;
        }
        if in_comment {
            // Only ASCII bytes may be blanked one for one; the bytes of a
            // multi-byte character are blanked too, which keeps the text valid.
            out[offset] = b' ';
            continue;
        }
        if in_string {
            in_string = byte != b'"';
            continue;
        }
        match byte {
            b'#' => {
                in_comment = true;
                out[offset] = b' ';
            }
            b'"' => in_string = true,
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Err(source
                        .error(Span::new(offset, offset + 1), "brackets nested too deeply")
                        .with_help(format!(
                            "at most {MAX_BRACKET_DEPTH} levels of brackets are accepted"
                        )));
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            b'\t' | b'\r' => out[offset] = b' ',
            _ => {}
        }
    }
    Ok(String::from_utf8(out).expect("blanking whole characters keeps UTF-8 valid"))
}

/// Turns a pest error into a located diagnostic that says what was expected.
fn pest_error(at: Place, error: &pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let source = at.source;
    let offset = at.offset
        + match error.location {
            InputLocation::Pos(offset) => offset,
            InputLocation::Span((start, _)) => start,
        };
    let found = describe_found(&source.text, offset);
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives
                .iter()
                .filter_map(|rule| rule_name(*rule))
                .collect();
            names.sort_unstable();
            names.dedup();
            // A name or a number is an expression: say only the larger thing.
            if names.contains(&"an expression") {
                names.retain(|n| *n != "a name" && *n != "a number");
            }
            match names.len() {
                0 => "a valid statement".to_string(),
                1 => names[0].to_string(),
                _ => {
                    let last = names.pop().expect("at least two names");
                    format!("{} or {last}", names.join(", "))
                }
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let end = offset + found.1;
    source.error(
        Span::new(offset, end),
        format!("found {}, expected {expected}", found.0),
    )
}

/// What stands at `offset`, in words, and how many bytes it covers.
fn describe_found(text: &str, offset: usize) -> (String, usize) {
    let rest = &text[offset.min(text.len())..];
    match rest.chars().next() {
        None => ("the end of the input".to_string(), 0),
        Some('\n') | Some('\r') => ("the end of the line".to_string(), 0),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .take(40)
                .collect();
            let len = word.len();
            (format!("`{word}`"), len)
        }
        Some(c) => (format!("`{c}`"), c.len_utf8()),
    }
}

/// How a grammar rule is named in error messages.
fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "the end of the input",
        Rule::expr | Rule::primary | Rule::parenthesized => "an expression",
        Rule::number | Rule::integer => "a number",
        Rule::name | Rule::reference | Rule::declared | Rule::call => "a name",
        Rule::index_arg | Rule::index_term => "an index",
        Rule::index_sign => "`+` or `-`",
        Rule::sum_call | Rule::sum_binder => "`sum(...)`",
        Rule::kronecker => "`delta(i, j)`",
        Rule::infix => "an operator",
        Rule::prefix => "an expression",
        Rule::string => "a quoted string",
        Rule::query => "a query such as `dE/da[j]`",
        Rule::primes => "`'`",
        Rule::separator => "the end of the statement",
        Rule::kw_in => "`in`",
        Rule::range_decl
        | Rule::index_decl
        | Rule::leaf_decl
        | Rule::function_decl
        | Rule::assume_stmt
        | Rule::latex_stmt
        | Rule::kronecker_stmt
        | Rule::delta_stmt
        | Rule::derive_stmt
        | Rule::definition
        | Rule::leaf_kind => "a statement",
        _ => return None,
    })
}

/// Where the text pest reads sits in its source. A file is read a line at
/// a time, so that pest's queue of tokens stays the size of a line; spans
/// name bytes of the whole file.
#[derive(Clone, Copy)]
struct Place<'s> {
    source: &'s Source,
    offset: usize,
}

impl<'s> Place<'s> {
    /// The start of `source`.
    fn start(source: &'s Source) -> Place<'s> {
        Place { source, offset: 0 }
    }

    fn span(self, pair: &Pair<Rule>) -> Span {
        let span = pair.as_span();
        Span::new(self.offset + span.start(), self.offset + span.end())
    }

    fn ident(self, pair: Pair<Rule>) -> Ident {
        Ident {
            text: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn declared(self, pair: Pair<Rule>) -> Declared {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("a declared family has a name"));
        Declared {
            name,
            indices: inner.map(|index| self.ident(index)).collect(),
        }
    }

    fn query(self, pair: Pair<Rule>) -> Result<Query, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let numerator = self.reference(inner.next().expect("a query has a numerator"))?;
        let denominator = self.reference(inner.next().expect("a query has a denominator"))?;
        Ok(Query {
            numerator: self.named(numerator, "a query")?,
            denominator: self.named(denominator, "a query")?,
            span,
        })
    }

    /// A reference with its index arguments read.
    fn reference(self, pair: Pair<Rule>) -> Result<Reference, Diagnostic> {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("a reference has a name"));
        let indices = inner
            .map(|argument| self.index_arg(argument))
            .collect::<Result<_, _>>()?;
        Ok(Reference { name, indices })
    }

    /// `t-1`, `i+p-1`, `2*i+p`: terms added up, each whole number within
    /// [`MAX_INDEX_LITERAL`].
    fn index_arg(self, pair: Pair<Rule>) -> Result<IndexArg, Diagnostic> {
        let span = self.span(&pair);
        let mut terms = Vec::new();
        let mut constant: i64 = 0;
        let mut sign = 1;
        for part in pair.into_inner() {
            if part.as_rule() == Rule::index_sign {
                sign = if part.as_str() == "-" { -1 } else { 1 };
                continue;
            }
            let mut pieces = part.into_inner();
            let first = pieces.next().expect("a term has a part");
            let (number, name) = match first.as_rule() {
                Rule::integer => {
                    let number = first.as_str();
                    let value = number
                        .parse::<i64>()
                        .ok()
                        .filter(|v| *v <= MAX_INDEX_LITERAL)
                        .ok_or_else(|| {
                            self.source
                                .error(self.span(&first), format!("`{number}` is too large for an index"))
                                .with_help(format!("an index is written with whole numbers of at most {MAX_INDEX_LITERAL}"))
                        })?;
                    (value, pieces.next().map(|name| self.ident(name)))
                }
                _ => (1, Some(self.ident(first))),
            };
            match name {
                Some(name) => terms.push((name, sign * number)),
                None => constant += sign * number,
            }
            sign = 1;
        }
        Ok(IndexArg {
            terms,
            constant,
            span,
        })
    }

    /// A reference whose arguments are names alone, as `what` takes them.
    fn named(self, reference: Reference, what: &str) -> Result<Declared, Diagnostic> {
        let mut indices = Vec::with_capacity(reference.indices.len());
        for argument in &reference.indices {
            match argument.as_name() {
                Some(name) => indices.push(name.clone()),
                None => {
                    return Err(self
                        .source
                        .error(argument.span, format!("{what} names its indices: this is an expression"))
                        .with_help(format!(
                            "write `{}` with an index name here; arithmetic on indices belongs in the definitions that use it",
                            reference.name.text
                        )));
                }
            }
        }
        Ok(Declared {
            name: reference.name,
            indices,
        })
    }
}

fn statement(at: Place, pair: Pair<Rule>) -> Result<Statement, Diagnostic> {
    let rule = pair.as_rule();
    let mut inner = pair.into_inner();
    Ok(match rule {
        Rule::range_decl => {
            inner.next(); // the keyword
            let name = at.ident(inner.next().expect("range has a name"));
            let size_pair = inner.next().expect("range has a size");
            let size = size_pair.as_str().parse::<u64>().map_err(|_| {
                at.source
                    .error(at.span(&size_pair), "range size is too large")
            })?;
            Statement::Range { name, size }
        }
        Rule::index_decl => {
            inner.next();
            let mut names = Vec::new();
            let mut range = None;
            while let Some(item) = inner.next() {
                match item.as_rule() {
                    Rule::kw_in => range = inner.next().map(|name| at.ident(name)),
                    _ => names.push(at.ident(item)),
                }
            }
            Statement::Index { names, range }
        }
        Rule::leaf_decl => {
            let kind_pair = inner.next().expect("a leaf has a kind");
            let kind = match kind_pair.as_str() {
                "input" => LeafKind::Input,
                "target" => LeafKind::Target,
                "param" => LeafKind::Param,
                _ => LeafKind::Const,
            };
            Statement::Leaf {
                kind,
                families: inner.map(|family| at.declared(family)).collect(),
            }
        }
        Rule::function_decl => {
            inner.next();
            Statement::Function {
                names: inner.map(|name| at.ident(name)).collect(),
            }
        }
        Rule::assume_stmt => {
            inner.next();
            let lhs = expression(at, inner.next().expect("assume has a left side"))?;
            let rhs = expression(at, inner.next().expect("assume has a right side"))?;
            Statement::Assume { lhs, rhs }
        }
        Rule::latex_stmt | Rule::delta_stmt => {
            inner.next();
            let name = at.ident(inner.next().expect("notation names a family"));
            let string = inner.next().expect("notation has a string");
            let tex = at.ident(string.into_inner().next().expect("a string has text"));
            if rule == Rule::latex_stmt {
                Statement::Latex { name, tex }
            } else {
                Statement::DeltaNotation { name, tex }
            }
        }
        Rule::kronecker_stmt => {
            inner.next();
            let string = inner.next().expect("notation has a string");
            let tex = at.ident(string.into_inner().next().expect("a string has text"));
            Statement::KroneckerNotation { tex }
        }
        Rule::derive_stmt => {
            inner.next();
            Statement::Derive(at.query(inner.next().expect("derive has a query"))?)
        }
        Rule::definition => {
            let target = at.reference(inner.next().expect("a definition has a target"))?;
            let target = at.named(target, "a definition's left side")?;
            let body = expression(at, inner.next().expect("a definition has a body"))?;
            Statement::Definition { target, body }
        }
        other => unreachable!("the grammar yields no statement {other:?}"),
    })
}

/// An operator waiting on the precedence stack.
#[derive(Clone, Copy, Debug)]
enum PendingOp {
    Binary(BinaryOp),
    Negate(Span),
}

impl PendingOp {
    /// Binding power: higher binds tighter.
    fn precedence(self) -> u8 {
        match self {
            PendingOp::Binary(BinaryOp::Add | BinaryOp::Subtract) => 1,
            PendingOp::Binary(BinaryOp::Multiply | BinaryOp::Divide) => 2,
            PendingOp::Negate(_) => 3,
            PendingOp::Binary(BinaryOp::Power) => 4,
        }
    }
}

/// An operand with the depth of its tree.
struct Operand {
    expr: Expr,
    depth: usize,
}

/// Gives a flat `expr` pair its structure by operator precedence, lowest to
/// highest: `+ -`, `* /`, unary `-`, `^` (right-associative). It keeps its
/// own stacks instead of recursing, both for long operator chains and for
/// expressions inside brackets, calls and sums, so depth is safe.
fn expression(at: Place, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
    let mut frames = vec![Frame::new(pair, Wrap::Top)];
    loop {
        let frame = frames.last_mut().expect("a frame is open");
        let Some(item) = frame.items.next() else {
            let mut frame = frames.pop().expect("a frame is open");
            let Operand { expr, depth } = frame.finish(at.source)?;
            let operand = match frame.wrap {
                Wrap::Top => return Ok(expr),
                Wrap::Parenthesized => Operand { depth, expr },
                Wrap::Call {
                    function,
                    order,
                    span,
                    mut arguments,
                    mut pending,
                } => {
                    arguments.push(expr);
                    // The next argument, read in a frame of its own.
                    if let Some(next) = pending.pop() {
                        let wrap = Wrap::Call {
                            function,
                            order,
                            span,
                            arguments,
                            pending,
                        };
                        frames.push(Frame::new(next, wrap));
                        continue;
                    }
                    Operand {
                        depth: depth + 1,
                        expr: Expr::Call {
                            function,
                            order,
                            arguments,
                            span,
                        },
                    }
                }
                Wrap::Sum { indices, span } => Operand {
                    depth: depth + 1,
                    expr: Expr::Sum {
                        indices,
                        body: Box::new(expr),
                        span,
                    },
                },
            };
            check_depth(at.source, &operand)?;
            frames
                .last_mut()
                .expect("a wrapped expression has a frame below")
                .operands
                .push(operand);
            continue;
        };
        let item_span = at.span(&item);
        match item.as_rule() {
            Rule::prefix => {
                if item.as_str() == "-" {
                    frame.operators.push(PendingOp::Negate(item_span));
                }
            }
            Rule::infix => {
                let op = match item.as_str() {
                    "+" => BinaryOp::Add,
                    "-" => BinaryOp::Subtract,
                    "*" => BinaryOp::Multiply,
                    "/" => BinaryOp::Divide,
                    _ => BinaryOp::Power,
                };
                let incoming = PendingOp::Binary(op);
                while let Some(&top) = frame.operators.last() {
                    let pops = if op == BinaryOp::Power {
                        top.precedence() > incoming.precedence()
                    } else {
                        top.precedence() >= incoming.precedence()
                    };
                    if !pops {
                        break;
                    }
                    frame.operators.pop();
                    reduce(at.source, &mut frame.operands, top)?;
                }
                frame.operators.push(incoming);
            }
            Rule::parenthesized => {
                let inner = item
                    .into_inner()
                    .next()
                    .expect("parentheses hold an expression");
                frames.push(Frame::new(inner, Wrap::Parenthesized));
            }
            Rule::call => {
                let mut inner = item.into_inner();
                let function = at.ident(inner.next().expect("a call names a function"));
                let order = inner.next().expect("a call has primes").as_str().len() as u32;
                let first = inner.next().expect("a call has an argument");
                // The arguments after the first, last first, to be popped.
                let mut pending: Vec<Pair<Rule>> = inner.collect();
                pending.reverse();
                let wrap = Wrap::Call {
                    function,
                    order,
                    span: item_span,
                    arguments: Vec::new(),
                    pending,
                };
                frames.push(Frame::new(first, wrap));
            }
            Rule::sum_call => {
                let mut indices = Vec::new();
                let mut body = None;
                for part in item.into_inner().skip(1) {
                    match part.as_rule() {
                        Rule::sum_binder => {
                            let mut parts = part.into_inner();
                            let name = at.ident(parts.next().expect("a binder has a name"));
                            let range = parts.nth(1).map(|range| at.ident(range));
                            indices.push(ast::SumBinder { name, range });
                        }
                        _ => body = Some(part),
                    }
                }
                let body = body.expect("a sum has a body");
                let wrap = Wrap::Sum {
                    indices,
                    span: item_span,
                };
                frames.push(Frame::new(body, wrap));
            }
            _ => {
                let operand = primary(at, item)?;
                frame.operands.push(operand);
            }
        }
    }
}

/// An expression being structured: the parts still to read, and the
/// stacks of operands and operators.
struct Frame<'i> {
    items: pest::iterators::Pairs<'i, Rule>,
    operands: Vec<Operand>,
    operators: Vec<PendingOp>,
    wrap: Wrap<'i>,
}

/// How a finished inner expression becomes an operand of the one around it.
enum Wrap<'i> {
    /// It is the whole expression.
    Top,
    /// `( expr )`.
    Parenthesized,
    /// `f''(expr)`, `max(expr, expr)`: the arguments read so far, and the
    /// ones still to read, last first.
    Call {
        function: Ident,
        order: u32,
        span: Span,
        arguments: Vec<Expr>,
        pending: Vec<Pair<'i, Rule>>,
    },
    /// `sum(i, j, expr)`.
    Sum {
        indices: Vec<ast::SumBinder>,
        span: Span,
    },
}

impl<'i> Frame<'i> {
    fn new(pair: Pair<'i, Rule>, wrap: Wrap<'i>) -> Frame<'i> {
        Frame {
            items: pair.into_inner(),
            operands: Vec::new(),
            operators: Vec::new(),
            wrap,
        }
    }

    /// The expression, with its depth, once every part is read.
    fn finish(&mut self, source: &Source) -> Result<Operand, Diagnostic> {
        while let Some(top) = self.operators.pop() {
            reduce(source, &mut self.operands, top)?;
        }
        Ok(self.operands.pop().expect("an expression has an operand"))
    }
}

fn reduce(source: &Source, operands: &mut Vec<Operand>, op: PendingOp) -> Result<(), Diagnostic> {
    let node = match op {
        PendingOp::Negate(op_span) => {
            let inner = operands.pop().expect("negation has an operand");
            let span = op_span.join(inner.expr.span());
            Operand {
                depth: inner.depth + 1,
                expr: Expr::Negate(Box::new(inner.expr), span),
            }
        }
        PendingOp::Binary(op) => {
            let rhs = operands
                .pop()
                .expect("a binary operator has a right operand");
            let lhs = operands
                .pop()
                .expect("a binary operator has a left operand");
            let span = lhs.expr.span().join(rhs.expr.span());
            let depth = lhs.depth.max(rhs.depth + 1);
            match lhs.expr {
                // Left-associative chains of one level stay flat: appending
                // to a chain means the same as nesting it on the left.
                Expr::Operation {
                    first, mut rest, ..
                } if op != BinaryOp::Power
                    && rest.first().is_some_and(|(previous, _)| {
                        previous.is_additive() == op.is_additive()
                            && previous.is_multiplicative() == op.is_multiplicative()
                    }) =>
                {
                    rest.push((op, rhs.expr));
                    Operand {
                        depth,
                        expr: Expr::Operation { first, rest, span },
                    }
                }
                lhs_expr => Operand {
                    depth: lhs.depth.max(rhs.depth) + 1,
                    expr: Expr::Operation {
                        first: Box::new(lhs_expr),
                        rest: vec![(op, rhs.expr)],
                        span,
                    },
                },
            }
        }
    };
    check_depth(source, &node)?;
    operands.push(node);
    Ok(())
}

/// Refuses an expression deeper than [`MAX_EXPRESSION_DEPTH`].
fn check_depth(source: &Source, operand: &Operand) -> Result<(), Diagnostic> {
    if operand.depth > MAX_EXPRESSION_DEPTH {
        return Err(source
            .error(operand.expr.span(), "expression nested too deeply")
            .with_help(format!(
                "at most {MAX_EXPRESSION_DEPTH} levels of operators and brackets are accepted"
            )));
    }
    Ok(())
}

fn primary(at: Place, pair: Pair<Rule>) -> Result<Operand, Diagnostic> {
    let span = at.span(&pair);
    Ok(match pair.as_rule() {
        Rule::number => Operand {
            expr: Expr::Number(number(at.source, pair.as_str(), span)?, span),
            depth: 1,
        },
        Rule::reference => Operand {
            expr: Expr::Reference(at.reference(pair)?),
            depth: 1,
        },
        Rule::kronecker => {
            let mut inner = pair.into_inner();
            inner.next();
            let first = at.index_arg(inner.next().expect("delta has two indices"))?;
            let second = at.index_arg(inner.next().expect("delta has two indices"))?;
            Operand {
                expr: Expr::Kronecker(first, second, span),
                depth: 1,
            }
        }
        other => unreachable!("the grammar yields no operand {other:?}"),
    })
}

/// Reads a decimal literal exactly: `0.1` is 1/10, `1e-3` is 1/1000.
fn number(source: &Source, text: &str, span: Span) -> Result<BigRational, Diagnostic> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, "0"),
    };
    let too_large = || {
        source
            .error(span, "number literal is too large")
            .with_help(format!(
                "exponents up to {MAX_LITERAL_EXPONENT} in magnitude are accepted"
            ))
    };
    let exponent: i64 = exponent.parse().map_err(|_| too_large())?;
    if exponent.unsigned_abs() > u64::from(MAX_LITERAL_EXPONENT) {
        return Err(too_large());
    }
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let significant = format!("{whole}{fraction}").trim_start_matches('0').len();
    if significant > MAX_LITERAL_DIGITS {
        return Err(source
            .error(
                span,
                format!("a number literal of {significant} digits is too long"),
            )
            .with_help(format!(
                "numbers of up to {MAX_LITERAL_DIGITS} digits are accepted"
            )));
    }
    let digits: BigInt = format!("{whole}{fraction}")
        .parse()
        .expect("the grammar admits only digits here");
    let scale = exponent - fraction.len() as i64;
    let ten = BigInt::from(10);
    let power = num_traits::pow(ten, scale.unsigned_abs() as usize);
    Ok(if scale >= 0 {
        BigRational::from_integer(digits * power)
    } else {
        BigRational::new(digits, power)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<File, Diagnostic> {
        parse_file(&Source::new("t.nn", text))
    }

    fn expr(text: &str) -> Expr {
        parse_expression(&Source::new("e", text)).unwrap()
    }

    /// An index argument as its terms: `i+p-1`.
    fn index_shape(argument: &ast::IndexArg) -> String {
        let mut out: String = argument
            .terms
            .iter()
            .map(|(name, c)| format!("{c:+}{}", name.text))
            .collect();
        if argument.constant != 0 {
            out.push_str(&format!("{:+}", argument.constant));
        }
        out
    }

    /// Shows structure with full parentheses.
    fn shape(expr: &Expr) -> String {
        match expr {
            Expr::Number(value, _) => value.to_string(),
            Expr::Reference(declared) => declared.name.text.clone(),
            Expr::Call {
                function,
                order,
                arguments,
                ..
            } => format!(
                "{}{}({})",
                function.text,
                "'".repeat(*order as usize),
                arguments.iter().map(shape).collect::<Vec<_>>().join(", ")
            ),
            Expr::Sum { indices, body, .. } => {
                let names: Vec<_> = indices.iter().map(|i| i.name.text.as_str()).collect();
                format!("sum({}; {})", names.join(","), shape(body))
            }
            Expr::Kronecker(a, b, _) => format!("delta({},{})", index_shape(a), index_shape(b)),
            Expr::Negate(inner, _) => format!("(-{})", shape(inner)),
            Expr::Operation { first, rest, .. } => {
                rest.iter().fold(shape(first), |left, (op, right)| {
                    let symbol = match op {
                        BinaryOp::Add => "+",
                        BinaryOp::Subtract => "-",
                        BinaryOp::Multiply => "*",
                        BinaryOp::Divide => "/",
                        BinaryOp::Power => "^",
                    };
                    format!("({left} {symbol} {})", shape(right))
                })
            }
        }
    }

    #[test]
    fn precedence_follows_the_language() {
        assert_eq!(shape(&expr("-x^2")), "(-(x ^ 2))");
        assert_eq!(shape(&expr("a/2/3")), "((a / 2) / 3)");
        assert_eq!(shape(&expr("a^b^c")), "(a ^ (b ^ c))");
        assert_eq!(shape(&expr("x^-1 * y")), "((x ^ (-1)) * y)");
        assert_eq!(shape(&expr("a - b - c")), "((a - b) - c)");
        assert_eq!(shape(&expr("1/2 * x + y*z")), "(((1 / 2) * x) + (y * z))");
        assert_eq!(
            shape(&expr("h''(a) * sum(i, j, w)")),
            "(h''(a) * sum(i,j; w))"
        );
        assert_eq!(shape(&expr("sum(i, j)")), "sum(i; j)");
    }

    #[test]
    fn numbers_are_exact() {
        let value = |text: &str| match expr(text) {
            Expr::Number(value, _) => value,
            other => panic!("not a number: {other:?}"),
        };
        assert_eq!(value("0.1"), BigRational::new(1.into(), 10.into()));
        assert_eq!(value("1e-3"), BigRational::new(1.into(), 1000.into()));
        assert_eq!(value("2.5E2"), BigRational::from_integer(250.into()));
    }

    #[test]
    fn newlines_inside_brackets_are_whitespace() {
        let file = parse("E = (a +\n  b # a comment (\n  + c)\nF = 1; G = 2").unwrap();
        assert_eq!(file.statements.len(), 3);
    }

    #[test]
    fn keywords_are_whole_words() {
        let file = parse("indexes = 1").unwrap();
        assert!(matches!(file.statements[0], Statement::Definition { .. }));
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let error = parse("index j in M\na[j] = w1[j,i] *\n").unwrap_err();
        let at = error.location.clone().unwrap();
        assert_eq!((at.line, at.column), (2, 17));
        assert_eq!(
            error.message,
            "found the end of the line, expected an expression"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_crashed() {
        let deep = format!("E = {}x{}", "(".repeat(10_000), ")".repeat(10_000));
        let error = parse(&deep).unwrap_err();
        assert_eq!(error.message, "brackets nested too deeply");
        let chain = format!("E = x{}", "^x".repeat(100_000));
        assert_eq!(
            parse(&chain).unwrap_err().message,
            "expression nested too deeply"
        );
    }

    #[test]
    fn huge_literals_are_refused() {
        let error = parse("E = 1e999999999").unwrap_err();
        assert_eq!(error.message, "number literal is too large");
    }
}
