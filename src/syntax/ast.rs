//! The syntax tree of a `.nn` file: what was written, with spans.

use num_rational::BigRational;

use crate::diagnostic::Span;

/// A name as written, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub text: String,
    /// Where it stands.
    pub span: Span,
}

/// A whole file.
#[derive(Clone, Debug, Default)]
pub struct File {
    /// The statements in order.
    pub statements: Vec<Statement>,
}

/// The kinds of leaf declarations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeafKind {
    /// `input`: data, not learnable.
    Input,
    /// `target`: data holding targets.
    Target,
    /// `param`: learnable.
    Param,
    /// `const`: constants.
    Const,
}

/// A family name with its index names, as in `param w[j,i]` or `a[j] = ...`.
#[derive(Clone, Debug)]
pub struct Declared {
    /// The family's name.
    pub name: Ident,
    /// The index names, in order.
    pub indices: Vec<Ident>,
}

/// A reference as written: a family's name and its index arguments.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The family's name.
    pub name: Ident,
    /// The index arguments, in order.
    pub indices: Vec<IndexArg>,
}

/// An index argument as written: `j`, `t-1`, `i+p-1`, `2*i+p`, `0`.
#[derive(Clone, Debug)]
pub struct IndexArg {
    /// The names with their coefficients, in the order written.
    pub terms: Vec<(Ident, i64)>,
    /// The numbers written alone, added up.
    pub constant: i64,
    /// Where it stands.
    pub span: Span,
}

impl IndexArg {
    /// The name, when the argument is a name alone.
    pub fn as_name(&self) -> Option<&Ident> {
        match (self.terms.as_slice(), self.constant) {
            ([(name, 1)], 0) => Some(name),
            _ => None,
        }
    }
}

/// One statement.
#[derive(Clone, Debug)]
pub enum Statement {
    /// `range K = 3`
    Range {
        /// The range's name.
        name: Ident,
        /// Its size.
        size: u64,
    },
    /// `index i, j in R`
    Index {
        /// The index names.
        names: Vec<Ident>,
        /// The range, when given.
        range: Option<Ident>,
    },
    /// `input x[i]`, `param w[j,i]`, ...
    Leaf {
        /// What kind of leaf.
        kind: LeafKind,
        /// The families declared.
        families: Vec<Declared>,
    },
    /// `function h, g`
    Function {
        /// The function names.
        names: Vec<Ident>,
    },
    /// `assume LHS = RHS`
    Assume {
        /// The left side.
        lhs: Expr,
        /// The right side.
        rhs: Expr,
    },
    /// `latex NAME "TEX"`
    Latex {
        /// The family.
        name: Ident,
        /// The notation string.
        tex: Ident,
    },
    /// `kronecker "TEX"`
    KroneckerNotation {
        /// The notation string.
        tex: Ident,
    },
    /// `delta NAME "TEX"`
    DeltaNotation {
        /// The family.
        name: Ident,
        /// The notation string.
        tex: Ident,
    },
    /// `derive dE/da[j]`
    Derive(Query),
    /// `a[j] = EXPR`
    Definition {
        /// The family and its left-hand indices.
        target: Declared,
        /// The defining expression.
        body: Expr,
    },
}

/// A derivative query `dNUM/dDEN`.
#[derive(Clone, Debug)]
pub struct Query {
    /// What is differentiated.
    pub numerator: Declared,
    /// With respect to what.
    pub denominator: Declared,
    /// The whole query.
    pub span: Span,
}

/// A name bound by a sum, with the range written after `in`, if any.
#[derive(Clone, Debug)]
pub struct SumBinder {
    /// The bound name.
    pub name: Ident,
    /// The range, as in `sum(k2 in K, ...)`.
    pub range: Option<Ident>,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Subtract,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `^`
    Power,
}

/// An expression as written.
#[derive(Clone, Debug)]
pub enum Expr {
    /// A number, held exactly.
    Number(BigRational, Span),
    /// `x`, `x[i]`, `h[t-1, j]`.
    Reference(Reference),
    /// `h(x)`, `tanh'(x)`, `max(a, b)`.
    Call {
        /// The function's name.
        function: Ident,
        /// How many primes follow the name.
        order: u32,
        /// The arguments, one or more.
        arguments: Vec<Expr>,
        /// The whole call.
        span: Span,
    },
    /// `sum(i, j, body)`.
    Sum {
        /// The bound index names.
        indices: Vec<SumBinder>,
        /// The summand.
        body: Box<Expr>,
        /// The whole sum.
        span: Span,
    },
    /// `delta(i, j)`.
    Kronecker(IndexArg, IndexArg, Span),
    /// `-x`.
    Negate(Box<Expr>, Span),
    /// `a + b - c`, `a * b / c`, `a ^ b`: an operand followed by operators
    /// and operands, applied from left to right. Chains of `+ -` or `* /`
    /// are kept flat, so a sum of many terms is not a deep tree; `^` always
    /// has exactly one operator.
    Operation {
        /// The first operand.
        first: Box<Expr>,
        /// The operators and the operands they apply.
        rest: Vec<(BinaryOp, Expr)>,
        /// The whole expression.
        span: Span,
    },
}

impl Expr {
    /// Where the expression stands.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(_, span)
            | Expr::Call { span, .. }
            | Expr::Sum { span, .. }
            | Expr::Kronecker(_, _, span)
            | Expr::Negate(_, span)
            | Expr::Operation { span, .. } => *span,
            Expr::Reference(reference) => reference
                .indices
                .iter()
                .fold(reference.name.span, |span, index| span.join(index.span)),
        }
    }
}

impl Expr {
    /// The operands directly inside, in order.
    pub fn operands(&self) -> Vec<&Expr> {
        match self {
            Expr::Number(..) | Expr::Reference(_) | Expr::Kronecker(..) => Vec::new(),
            Expr::Call { arguments, .. } => arguments.iter().collect(),
            Expr::Sum { body, .. } => vec![body],
            Expr::Negate(inner, _) => vec![inner],
            Expr::Operation { first, rest, .. } => std::iter::once(first.as_ref())
                .chain(rest.iter().map(|(_, operand)| operand))
                .collect(),
        }
    }

    /// Every expression inside this one, this one first, left to right;
    /// walked with a stack of its own, so depth does not matter.
    pub fn walk(&self) -> impl Iterator<Item = &Expr> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let next = stack.pop()?;
            stack.extend(next.operands().into_iter().rev());
            Some(next)
        })
    }
}

impl BinaryOp {
    /// True for `+` and `-`.
    pub fn is_additive(self) -> bool {
        matches!(self, BinaryOp::Add | BinaryOp::Subtract)
    }

    /// True for `*` and `/`.
    pub fn is_multiplicative(self) -> bool {
        matches!(self, BinaryOp::Multiply | BinaryOp::Divide)
    }
}
