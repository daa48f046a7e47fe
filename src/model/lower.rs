//! Lowering expressions into the store: names resolved, indices checked,
//! subtraction, division and negation turned into sums, products and
//! powers. The walk keeps its own stacks, so the depth of an expression
//! does not matter.

use std::collections::HashSet;

use crate::calculus::local::nth_builtin_derivative;
use crate::diagnostic::{Diagnostic, Span, closest};
use crate::expr::{Builtin, ExprId, Extremum, Function, Index, IndexVar, OpaqueId, RangeId, Store};
use crate::limits::MAX_NUMBER_BITS;
use crate::syntax::ast::{self, BinaryOp, Ident};

use super::{KEYWORDS, Model, PI_NAME, count};

/// The bound names in force while lowering an expression.
#[derive(Default)]
pub(super) struct Scope {
    bound: Vec<(String, IndexVar)>,
    /// Names free where the expression stands (a definition's left side).
    free_names: HashSet<String>,
    /// Every index name used free, as written (a free index is an error
    /// even where the expression would not need it, as in `a[j] * 0`).
    pub(super) free_uses: Vec<Ident>,
}

impl Scope {
    /// A scope where `names` are free, as a definition's left-hand indices are.
    pub(super) fn with_free_names(names: impl IntoIterator<Item = String>) -> Scope {
        Scope {
            free_names: names.into_iter().collect(),
            ..Scope::default()
        }
    }

    fn lookup(&self, name: &str) -> Option<IndexVar> {
        self.bound
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

/// Work of the lowering walk.
enum Task<'e> {
    /// Lower an expression and push its value.
    Lower(&'e ast::Expr),
    /// Its operands' values are pushed: combine them.
    Build(&'e ast::Expr),
}

impl Model {
    /// Lowers an expression in `scope`.
    pub(super) fn lower_expr(
        &mut self,
        expr: &ast::Expr,
        scope: &mut Scope,
    ) -> Result<ExprId, Diagnostic> {
        let mut tasks = vec![Task::Lower(expr)];
        let mut values: Vec<ExprId> = Vec::new();
        // The names each open sum binds, innermost last.
        let mut sums: Vec<Vec<IndexVar>> = Vec::new();
        while let Some(task) = tasks.pop() {
            match task {
                Task::Lower(expr) => match expr {
                    ast::Expr::Number(value, _) => values.push(self.store.number(value.clone())),
                    ast::Expr::Reference(declared) => {
                        let lowered = self.lower_reference(declared, scope)?;
                        values.push(lowered);
                    }
                    ast::Expr::Kronecker(a, b, _) => {
                        let lowered = self.lower_kronecker(a, b, scope)?;
                        values.push(lowered);
                    }
                    ast::Expr::Sum { indices, body, .. } => {
                        let bound = self.bind_sum(indices, body, scope)?;
                        scope.bound.extend(bound.iter().cloned());
                        sums.push(bound.into_iter().map(|(_, var)| var).collect());
                        tasks.push(Task::Build(expr));
                        tasks.push(Task::Lower(body));
                    }
                    _ => {
                        tasks.push(Task::Build(expr));
                        tasks.extend(expr.operands().into_iter().rev().map(Task::Lower));
                    }
                },
                Task::Build(expr) => {
                    let count = expr.operands().len();
                    let operands = values.split_off(values.len() - count);
                    let built = match expr {
                        ast::Expr::Sum { .. } => {
                            let bound = sums.pop().expect("the sum was opened");
                            scope.bound.truncate(scope.bound.len() - bound.len());
                            self.store.sums(&bound, operands[0])
                        }
                        ast::Expr::Negate(..) => self.store.negate(operands[0]),
                        ast::Expr::Operation { rest, .. } => {
                            self.lower_operation(rest, &operands, expr.span())?
                        }
                        ast::Expr::Call {
                            function, order, ..
                        } => self.lower_call(function, *order, &operands)?,
                        _ => unreachable!("leaves are lowered at once"),
                    };
                    values.push(built);
                }
            }
        }
        Ok(values.pop().expect("the expression has a value"))
    }

    fn lower_operation(
        &mut self,
        rest: &[(BinaryOp, ast::Expr)],
        operands: &[ExprId],
        span: Span,
    ) -> Result<ExprId, Diagnostic> {
        let is_zero =
            |store: &Store, id: ExprId| store.as_number(id).is_some_and(num_traits::Zero::is_zero);
        if let [(BinaryOp::Power, exponent)] = rest {
            let negative = self
                .store
                .as_number(operands[1])
                .is_some_and(num_traits::Signed::is_negative);
            if negative && is_zero(&self.store, operands[0]) {
                return Err(self
                    .source
                    .error(exponent.span(), "a negative power of zero divides by zero"));
            }
            return Ok(self.store.pow(operands[0], operands[1]));
        }
        if !rest[0].0.is_additive() {
            // Numbers side by side are multiplied as they are read: their
            // size is bounded before that.
            let bits: u64 = operands
                .iter()
                .filter_map(|o| self.store.as_number(*o))
                .map(|n| (n.numer().bits() + n.denom().bits()).saturating_sub(2))
                .sum();
            if bits > MAX_NUMBER_BITS {
                return Err(self.source.error(
                    span,
                    format!(
                        "the numbers of this product have more than {MAX_NUMBER_BITS} bits together"
                    ),
                ));
            }
        }
        let mut items = vec![operands[0]];
        for ((op, divisor), operand) in rest.iter().zip(&operands[1..]) {
            items.push(match op {
                BinaryOp::Subtract => self.store.negate(*operand),
                BinaryOp::Divide if is_zero(&self.store, *operand) => {
                    return Err(self.source.error(divisor.span(), "this divides by zero"));
                }
                // `1/2` is the number one half, not 1 times 2^-1.
                BinaryOp::Divide => match self.store.as_number(*operand).cloned() {
                    Some(value) => self.store.number(value.recip()),
                    None => self.store.powi(*operand, -1),
                },
                _ => *operand,
            });
        }
        Ok(if rest[0].0.is_additive() {
            self.store.add(items)
        } else {
            self.store.mul(items)
        })
    }

    fn lower_call(
        &mut self,
        function: &Ident,
        order: u32,
        arguments: &[ExprId],
    ) -> Result<ExprId, Diagnostic> {
        if let Some(kind) = Extremum::from_name(&function.text) {
            let [a, b] = arguments else {
                return Err(self
                    .source
                    .error(
                        function.span,
                        format!(
                            "`{}` takes two arguments, not {}",
                            function.text,
                            arguments.len()
                        ),
                    )
                    .with_help(format!("write `{}(a, b)`", function.text)));
            };
            if order > 0 {
                return Err(self
                    .source
                    .error(
                        function.span,
                        format!("`{}` is not written with primes", function.text),
                    )
                    .with_help(format!(
                        "its derivative by its first argument is `step(a - b)`, by its second `step(b - a)`{}",
                        if kind == Extremum::Min { ", each turned around" } else { "" }
                    )));
            }
            return Ok(self.store.extremum(kind, *a, *b));
        }
        let [argument] = arguments else {
            return Err(self
                .source
                .error(
                    function.span,
                    format!(
                        "`{}` takes one argument, not {}",
                        function.text,
                        arguments.len()
                    ),
                )
                .with_help("only `max` and `min` take two"));
        };
        let argument = *argument;
        if let Some(builtin) = Builtin::from_name(&function.text) {
            if order == 0 {
                return Ok(self.store.builtin(builtin, argument));
            }
            return nth_builtin_derivative(&mut self.store, builtin, order, argument).map_err(
                |e| {
                    self.source
                        .error(function.span, format!("{e}"))
                        .with_help("write fewer primes")
                },
            );
        }
        if let Some(at) = self.functions.iter().position(|f| *f == function.text) {
            return Ok(self
                .store
                .call(Function::Opaque(OpaqueId(at as u32)), order, argument));
        }
        let error = self.source.error(
            function.span,
            format!("unknown function `{}`", function.text),
        );
        let known: Vec<&str> = Builtin::ALL
            .iter()
            .map(|b| b.name())
            .chain(Extremum::ALL.iter().map(|e| e.name()))
            .chain(self.functions.iter().map(String::as_str))
            .collect();
        Err(match closest(&function.text, known) {
            Some(near) => error.with_help(format!(
                "did you mean `{near}`? Otherwise declare it with `function {}`",
                function.text
            )),
            None => error.with_help(format!("declare it with `function {}`", function.text)),
        })
    }

    /// `delta(i, j)` of two names of one range, or `delta(i+1, j)`: with
    /// arithmetic, a Kronecker delta compares positions, of any ranges.
    fn lower_kronecker(
        &mut self,
        a: &ast::IndexArg,
        b: &ast::IndexArg,
        scope: &mut Scope,
    ) -> Result<ExprId, Diagnostic> {
        if let (Some(a), Some(b)) = (a.as_name(), b.as_name()) {
            let first = self.index_in_scope(a, scope)?;
            let second = self.index_in_scope(b, scope)?;
            let (range_a, range_b) = (self.store.var(first).range, self.store.var(second).range);
            if range_a != range_b {
                return Err(self.source.error(
                    b.span,
                    format!(
                        "`delta({}, {})` joins indices over different ranges ({} and {})",
                        a.text,
                        b.text,
                        self.ranges[range_a.0 as usize].name,
                        self.ranges[range_b.0 as usize].name
                    ),
                ));
            }
            return Ok(self.store.delta(first, second));
        }
        let first = self.lower_index_arg(a, scope)?;
        let second = self.lower_index_arg(b, scope)?;
        Ok(self.store.delta_at(first, second))
    }

    /// The variables a sum binds, each name checked.
    fn bind_sum(
        &mut self,
        indices: &[ast::SumBinder],
        body: &ast::Expr,
        scope: &Scope,
    ) -> Result<Vec<(String, IndexVar)>, Diagnostic> {
        let mut bound = Vec::new();
        for binder in indices {
            let index = &binder.name;
            if scope.lookup(&index.text).is_some() {
                return Err(self.source.error(
                    index.span,
                    format!(
                        "summed index `{}` is already bound by an enclosing sum",
                        index.text
                    ),
                ));
            }
            if scope.free_names.contains(&index.text) {
                return Err(self.source.error(
                    index.span,
                    format!("summed index `{}` is free where the sum stands", index.text),
                ));
            }
            if self.family_named(&index.text).is_some() {
                return Err(self.source.error(
                    index.span,
                    format!("`{}` is a family, not an index", index.text),
                ));
            }
            let written_range = match &binder.range {
                None => None,
                Some(range) => Some(
                    self.ranges
                        .iter()
                        .position(|r| r.name == range.text)
                        .map(|at| RangeId(at as u32))
                        .ok_or_else(|| {
                            self.source
                                .error(range.span, format!("unknown range `{}`", range.text))
                        })?,
                ),
            };
            let var = match self.indices.get(&index.text) {
                Some(declared) => {
                    let declared_range = self.store.var(*declared).range;
                    if written_range.is_some_and(|r| r != declared_range) {
                        return Err(self.source.error(
                            index.span,
                            format!(
                                "index `{}` ranges over {}, not over the range written",
                                index.text, self.ranges[declared_range.0 as usize].name
                            ),
                        ));
                    }
                    *declared
                }
                None => {
                    // A fresh name: its range is written, or inferred where it is used.
                    let range = written_range
                        .or_else(|| self.infer_range(&index.text, body))
                        .ok_or_else(|| {
                            self.source
                                .error(
                                    index.span,
                                    format!(
                                        "cannot tell the range of summed index `{}`: it indexes nothing",
                                        index.text
                                    ),
                                )
                                .with_help(format!(
                                    "write its range: `sum({} in RANGE, ...)`",
                                    index.text
                                ))
                        })?;
                    self.store.new_var(index.text.clone(), range)
                }
            };
            bound.push((index.text.clone(), var));
        }
        Ok(bound)
    }

    fn lower_reference(
        &mut self,
        declared: &ast::Reference,
        scope: &mut Scope,
    ) -> Result<ExprId, Diagnostic> {
        let name = &declared.name;
        // `pi` is the constant unless the file declares that name.
        if name.text == PI_NAME && self.family_named(PI_NAME).is_none() {
            if let Some(index) = declared.indices.first() {
                return Err(self
                    .source
                    .error(index.span, "`pi` is the constant π and takes no index")
                    .with_help("declare a family named `pi` to use the name for a quantity"));
            }
            return Ok(self.store.pi());
        }
        let Some(family) = self.family_named(&name.text) else {
            let message =
                if self.indices.contains_key(&name.text) || scope.lookup(&name.text).is_some() {
                    format!("`{}` is an index, not a quantity", name.text)
                } else if self.functions.contains(&name.text)
                    || Builtin::from_name(&name.text).is_some()
                    || Extremum::from_name(&name.text).is_some()
                {
                    format!("function `{}` is used without an argument", name.text)
                } else if KEYWORDS.contains(&name.text.as_str()) {
                    format!("`{}` is a reserved word", name.text)
                } else {
                    let error = self
                        .source
                        .error(name.span, format!("unknown name `{}`", name.text));
                    return Err(self.suggest_family(error, &name.text));
                };
            return Err(self.source.error(name.span, message));
        };
        let arity = self.family(family).ranges.len();
        if declared.indices.len() != arity {
            let span = declared
                .indices
                .iter()
                .fold(name.span, |s, i| s.join(i.span));
            return Err(self.source.error(
                span,
                format!(
                    "`{}` takes {} but {} given",
                    name.text,
                    count(arity, "index", "indices"),
                    if declared.indices.len() == 1 {
                        "1 is".to_string()
                    } else {
                        format!("{} are", declared.indices.len())
                    }
                ),
            ));
        }
        let mut indices = Vec::new();
        for (position, argument) in declared.indices.iter().enumerate() {
            // A bare name sits in a position of its own range; an argument
            // with arithmetic names a position of whatever range it is in.
            let index = match argument.as_name() {
                Some(index) => {
                    let var = self.index_in_scope(index, scope)?;
                    let source = self.source.clone();
                    self.check_range(&source, index, var, family, position)?;
                    Index::Var(var)
                }
                None => self.lower_index_arg(argument, scope)?,
            };
            indices.push(index);
        }
        Ok(self.store.reference(family, &indices))
    }

    /// An index argument with arithmetic: `t-1`, `i+p-1`, `2*i+p`, `0`.
    fn lower_index_arg(
        &mut self,
        argument: &ast::IndexArg,
        scope: &mut Scope,
    ) -> Result<Index, Diagnostic> {
        let mut terms = Vec::with_capacity(argument.terms.len());
        for (name, coefficient) in &argument.terms {
            terms.push((self.index_in_scope(name, scope)?, *coefficient));
        }
        Ok(self.store.index(&terms, argument.constant))
    }

    fn index_in_scope(&self, index: &Ident, scope: &mut Scope) -> Result<IndexVar, Diagnostic> {
        if let Some(var) = scope.lookup(&index.text) {
            return Ok(var);
        }
        scope.free_uses.push(index.clone());
        if self.family_named(&index.text).is_some() {
            return Err(self.source.error(
                index.span,
                format!(
                    "`{}` is a family; an index position takes an index name",
                    index.text
                ),
            ));
        }
        self.declared_index(index)
    }

    /// The range of a fresh summed name, from the positions it indexes.
    fn infer_range(&self, name: &str, body: &ast::Expr) -> Option<RangeId> {
        body.walk().find_map(|expr| {
            let ast::Expr::Reference(declared) = expr else {
                return None;
            };
            let info = self.family(self.family_named(&declared.name.text)?);
            declared
                .indices
                .iter()
                .enumerate()
                .filter(|(position, index)| {
                    index.as_name().is_some_and(|n| n.text == name) && *position < info.ranges.len()
                })
                .map(|(position, _)| info.ranges[position])
                .next_back()
        })
    }
}
