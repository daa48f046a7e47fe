//! Reading a parsed answer through the network's notation: which symbol is
//! which family, which subscript is which index, what is a delta of the
//! network and what a Kronecker delta, what is a call and what a product.

use crate::calculus::local::nth_builtin_derivative;
use crate::diagnostic::{Span, closest, escape_controls};
use crate::expr::index::MAX_INDEX_LITERAL;
use crate::expr::{
    Builtin, ExprId, FamilyId, Function, Index, IndexVar, Node, OpaqueId, RangeId, Wrt,
};
use crate::limits::MAX_RESOLVE_STEPS;
use crate::model::Model;
use crate::render::symbols::default_latex;
use crate::syntax::answer::{AnswerExpr, Join, parse_fragment};

/// Why an answer could not be read as an expression of the network.
#[derive(Clone, Debug)]
pub struct ResolveError {
    /// Where in the answer.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// True when the answer is readable but wrong (an index of the wrong
    /// range, a sum reusing a free index), false when it cannot be read.
    pub mistake: bool,
}

fn unreadable(span: Span, message: impl Into<String>) -> ResolveError {
    ResolveError {
        span,
        message: message.into(),
        mistake: false,
    }
}

fn mistake(span: Span, message: impl Into<String>) -> ResolveError {
    ResolveError {
        span,
        message: message.into(),
        mistake: true,
    }
}

/// Text from an answer as a message quotes it: control characters shown as
/// their pictures, and a long text cut short.
fn shown(text: &str) -> String {
    const LONGEST: usize = 60;
    let visible = escape_controls(text);
    if visible.chars().count() > LONGEST {
        let cut: String = visible.chars().take(LONGEST - 1).collect();
        format!("{cut}…")
    } else {
        visible
    }
}

/// Removes what does not change a symbol's meaning: spaces and braces.
pub fn normalize(tex: &str) -> String {
    tex.chars()
        .filter(|c| !c.is_whitespace() && *c != '{' && *c != '}')
        .collect()
}

/// Reads answers over one model.
pub struct Resolver<'m> {
    model: &'m mut Model,
    /// Free index names the answer may use (the query's).
    free: Vec<IndexVar>,
    scope: Vec<(String, IndexVar)>,
    /// Parts of the answer read so far, trials of a reading included.
    steps: usize,
}

impl<'m> Resolver<'m> {
    /// A resolver whose free indices are `free`.
    pub fn new(model: &'m mut Model, free: Vec<IndexVar>) -> Resolver<'m> {
        Resolver {
            model,
            free,
            scope: Vec::new(),
            steps: 0,
        }
    }

    /// The expression an answer side means. A part that is undefined (a
    /// division by zero, the logarithm of zero) is a mistake, refused before
    /// a factor of zero or a power of zero could hide it.
    pub fn resolve(&mut self, expr: &AnswerExpr) -> Result<ExprId, ResolveError> {
        let value = self.resolve_part(expr)?;
        let store = &self.model.store;
        let log_of_zero = store.any_node(value, |node| {
            matches!(node, Node::Call(Function::Builtin(Builtin::Log), 0, argument) if store.as_number(*argument).is_some_and(num_traits::Zero::is_zero))
        });
        if store.divides_by_zero(value) || log_of_zero {
            return Err(mistake(
                Span::default(),
                "the answer divides by zero or takes the logarithm of zero: it is undefined",
            ));
        }
        Ok(value)
    }

    fn resolve_part(&mut self, expr: &AnswerExpr) -> Result<ExprId, ResolveError> {
        // Trying the ranges of undeclared summed names reads parts again:
        // the reading as a whole is bounded.
        self.steps += 1;
        if self.steps > MAX_RESOLVE_STEPS {
            return Err(unreadable(
                Span::default(),
                format!(
                    "reading the answer takes more than {MAX_RESOLVE_STEPS} steps; declare the summed indices, or write less"
                ),
            ));
        }
        match expr {
            AnswerExpr::Number(value) => Ok(self.model.store.number(value.clone())),
            AnswerExpr::Group(inner) => self.resolve(inner),
            AnswerExpr::Terms(terms) => {
                let mut items = Vec::new();
                for (negative, term) in terms {
                    let value = self.resolve(term)?;
                    items.push(if *negative {
                        self.model.store.negate(value)
                    } else {
                        value
                    });
                }
                Ok(self.model.store.add(items))
            }
            AnswerExpr::Product(factors) => self.product(factors),
            AnswerExpr::Frac(top, bottom) => {
                let top = self.resolve(top)?;
                let bottom = self.resolve(bottom)?;
                let inverse = self.model.store.powi(bottom, -1);
                self.refuse_hidden_by_zero(&[top, inverse])?;
                Ok(self.model.store.mul(vec![top, inverse]))
            }
            AnswerExpr::Sqrt(inner) => {
                let inner = self.resolve(inner)?;
                Ok(self.model.store.builtin(Builtin::Sqrt, inner))
            }
            AnswerExpr::Power(base, exponent) => {
                let base = self.resolve(base)?;
                let exponent = self.resolve(exponent)?;
                // A zero power would drop its base as a zero factor does.
                self.refuse_hidden_by_zero(&[exponent, base])?;
                Ok(self.model.store.pow(base, exponent))
            }
            AnswerExpr::Sum(indices, body, span) => self.sum(indices, body, *span),
            AnswerExpr::Choice(kind, first, second) => {
                let first = self.resolve(first)?;
                let second = self.resolve(second)?;
                Ok(self.model.store.extremum(*kind, first, second))
            }
            AnswerExpr::Call {
                name,
                primes,
                power,
                argument,
                span,
            } => {
                // `\operatorname{h}(x)` names the network's own `h` too.
                let opaque = self.opaque(name);
                let builtin = Builtin::from_answer_name(name);
                if builtin.is_none() && opaque.is_none() {
                    let mut known: Vec<String> = self
                        .model
                        .functions
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect();
                    known.extend(["`\\tanh`", "`\\sigma`", "`\\exp`", "`\\log`"].map(String::from));
                    return Err(unreadable(
                        *span,
                        format!(
                            "unknown function `{}`; the functions known here include {}",
                            shown(name),
                            known.join(", ")
                        ),
                    ));
                }
                let argument = self.resolve(argument)?;
                let mut value = match (builtin, opaque) {
                    (_, Some(function)) => {
                        self.model
                            .store
                            .call(Function::Opaque(function), *primes, argument)
                    }
                    (Some(builtin), None) if *primes == 0 => {
                        self.model.store.builtin(builtin, argument)
                    }
                    (Some(builtin), None) => {
                        nth_builtin_derivative(&mut self.model.store, builtin, *primes, argument)
                            .map_err(|e| unreadable(*span, e.what))?
                    }
                    (None, None) => unreachable!("refused above"),
                };
                if let Some(power) = power {
                    let power = self.resolve(power)?;
                    value = self.model.store.pow(value, power);
                }
                Ok(value)
            }
            AnswerExpr::Partial(top, bottom, span) => {
                let top = self.resolve(top)?;
                let bottom_ref = self.resolve(bottom)?;
                let Node::Ref(family, indices) = self.model.store.node(bottom_ref).clone() else {
                    return Err(unreadable(
                        *span,
                        "a derivative must be taken with respect to a quantity of the network",
                    ));
                };
                Ok(self.model.store.derivative(
                    top,
                    Wrt {
                        family,
                        indices,
                        held: Box::new([]),
                    },
                ))
            }
            AnswerExpr::Symbol { .. } => self.symbol(expr),
        }
    }

    fn product(&mut self, factors: &[(Join, AnswerExpr)]) -> Result<ExprId, ResolveError> {
        let mut items = Vec::new();
        let mut at = 0;
        while at < factors.len() {
            let (join, factor) = &factors[at];
            // `h(x)`, `h'(x)`, `h^2(x)` and `h(x)^2`: an opaque function
            // followed by brackets is a call.
            let call = match (factor, factors.get(at + 1)) {
                (
                    AnswerExpr::Symbol {
                        base,
                        sup,
                        sub: None,
                        primes,
                        span,
                    },
                    Some((Join::Times, next)),
                ) => self.opaque(base).and_then(|function| {
                    let (argument, outer) = match next {
                        AnswerExpr::Group(argument) => (argument, None),
                        AnswerExpr::Power(inner, exponent) => match inner.as_ref() {
                            AnswerExpr::Group(argument) => (argument, Some(exponent)),
                            _ => return None,
                        },
                        _ => return None,
                    };
                    Some((function, sup, *primes, *span, argument, outer))
                }),
                _ => None,
            };
            let value = match call {
                Some((function, sup, primes, span, argument, outer)) => {
                    let argument = self.resolve(argument)?;
                    at += 1;
                    let mut value =
                        self.model
                            .store
                            .call(Function::Opaque(function), primes, argument);
                    if let Some(sup) = sup {
                        let power = self.fragment(sup, span)?;
                        value = self.model.store.pow(value, power);
                    }
                    if let Some(exponent) = outer {
                        let power = self.resolve(exponent)?;
                        value = self.model.store.pow(value, power);
                    }
                    value
                }
                _ => self.resolve(factor)?,
            };
            items.push(match join {
                Join::Times => value,
                Join::Over => self.model.store.powi(value, -1),
            });
            at += 1;
        }
        self.refuse_hidden_by_zero(&items)?;
        Ok(self.model.store.mul(items))
    }

    /// Refuses a product of zero with a part that may be undefined (a
    /// division, a logarithm), or such a part to the power zero: building
    /// either would drop the part unseen, and
    /// `0 \cdot \frac{1}{a_j - a_j}` is undefined, not zero.
    fn refuse_hidden_by_zero(&self, factors: &[ExprId]) -> Result<(), ResolveError> {
        let store = &self.model.store;
        if factors.len() < 2
            || !factors
                .iter()
                .any(|f| store.as_number(*f).is_some_and(num_traits::Zero::is_zero))
        {
            return Ok(());
        }
        let may_be_undefined = factors.iter().any(|factor| {
            store.any_node(*factor, |node| match node {
                // A negative or unknown power may divide.
                Node::Pow(_, exponent) => store
                    .as_number(*exponent)
                    .is_none_or(num_traits::Signed::is_negative),
                Node::Call(Function::Builtin(Builtin::Log), ..) => true,
                _ => false,
            })
        });
        if may_be_undefined {
            return Err(mistake(
                Span::default(),
                "the answer multiplies by zero a part that may be undefined (a division or a logarithm): leave the zero term out",
            ));
        }
        Ok(())
    }

    /// The network's function that `base` names, as declared, in its
    /// default LaTeX, or upright (`\operatorname{h}`, `\mathrm{h}`).
    fn opaque(&self, base: &str) -> Option<OpaqueId> {
        let base = base
            .strip_prefix("\\operatorname{")
            .or_else(|| base.strip_prefix("\\mathrm{"))
            .and_then(|rest| rest.strip_suffix('}'))
            .map_or(base, str::trim);
        self.model
            .functions
            .iter()
            .position(|f| *f == base || default_latex(f) == base)
            .map(|at| OpaqueId(at as u32))
    }

    fn sum(
        &mut self,
        indices: &[(String, Span)],
        body: &AnswerExpr,
        span: Span,
    ) -> Result<ExprId, ResolveError> {
        let mut bound = Vec::new();
        for (name, index_span) in indices {
            if self
                .free
                .iter()
                .any(|v| self.model.store.var(*v).name == *name)
                && !self.scope.iter().any(|(n, _)| n == name)
            {
                return Err(mistake(
                    *index_span,
                    format!(
                        "the sum over `{0}` reuses `{0}`, which is free in the result",
                        shown(name)
                    ),
                ));
            }
            let range = match self.index_range(name) {
                Some(range) => range,
                None => {
                    let last = bound.len() + 1 == indices.len();
                    match self.infer_range(name, body, &bound, last) {
                        // The body is read already, under every index.
                        Some((_, Some((var, read)))) => {
                            bound.push((name.clone(), var));
                            let mut value = read;
                            for (_, var) in bound.iter().rev() {
                                value = self.model.store.sum(*var, value);
                            }
                            return Ok(value);
                        }
                        Some((range, None)) => range,
                        None => {
                            return Err(unreadable(
                                *index_span,
                                format!("unknown index `{}` under the sum", shown(name)),
                            ));
                        }
                    }
                }
            };
            let var = self.model.store.new_var(name.clone(), range);
            bound.push((name.clone(), var));
        }
        if bound.is_empty() {
            return Err(unreadable(span, "a sum needs its index: write `\\sum_k`"));
        }
        let depth = self.scope.len();
        self.scope.extend(bound.iter().cloned());
        let result = self.resolve(body);
        self.scope.truncate(depth);
        let mut value = result?;
        for (_, var) in bound.iter().rev() {
            value = self.model.store.sum(*var, value);
        }
        Ok(value)
    }

    /// The range of a summed name that no index line declares: the first
    /// range under which the body reads without an index-range mistake,
    /// with the earlier names of the sum `bound` in scope. When the name is
    /// the sum's `last`, the body read under it comes too, with its
    /// variable, so that it is not read again.
    fn infer_range(
        &mut self,
        name: &str,
        body: &AnswerExpr,
        bound: &[(String, IndexVar)],
        last: bool,
    ) -> Option<(RangeId, Option<(IndexVar, ExprId)>)> {
        for at in 0..self.model.ranges.len() {
            let range = RangeId(at as u32);
            let var = self.model.store.new_var(name.to_string(), range);
            let depth = self.scope.len();
            self.scope.extend(bound.iter().cloned());
            self.scope.push((name.to_string(), var));
            let read = self.resolve(body);
            self.scope.truncate(depth);
            if let Ok(read) = read {
                return Some((range, last.then_some((var, read))));
            }
        }
        None
    }

    /// The range of an index name: a declared one, or one made from a
    /// declared name by primes or digits (`j'`, `j2`).
    fn index_range(&self, name: &str) -> Option<RangeId> {
        if let Some(var) = self.model.indices.get(name) {
            return Some(self.model.store.var(*var).range);
        }
        let stem = name.trim_end_matches(|c: char| c == '\'' || c.is_ascii_digit());
        self.model
            .indices
            .get(stem)
            .map(|v| self.model.store.var(*v).range)
    }

    fn index_var(&self, name: &str) -> Option<IndexVar> {
        if let Some((_, var)) = self.scope.iter().rev().find(|(n, _)| n == name) {
            return Some(*var);
        }
        self.free
            .iter()
            .copied()
            .find(|v| self.model.store.var(*v).name == name)
    }

    /// Splits a subscript into index names: at commas, or a declared name
    /// whole, or letter by letter (each with its primes).
    fn split_indices(&self, sub: &str) -> Vec<String> {
        // Spacing, as in `w_{k\,j}`, separates nothing more than the letters do.
        let mut text = sub.to_string();
        for spacing in ["\\quad", "\\,", "\\;", "\\:", "\\!", "\\ "] {
            text = text.replace(spacing, "");
        }
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if text.contains(',') {
            return text.split(',').map(str::to_string).collect();
        }
        // One argument with arithmetic: `t-p+1`.
        if text.contains(['+', '-']) {
            return vec![text];
        }
        if self.index_var(&text).is_some() || self.model.indices.contains_key(&text) {
            return vec![text];
        }
        let mut names: Vec<String> = Vec::new();
        for c in text.chars() {
            match (c, names.last_mut()) {
                ('\'', Some(last)) => last.push(c),
                (c, Some(last)) if c.is_ascii_digit() => last.push(c),
                _ => names.push(c.to_string()),
            }
        }
        names
    }

    fn symbol(&mut self, expr: &AnswerExpr) -> Result<ExprId, ResolveError> {
        let AnswerExpr::Symbol {
            base,
            sup,
            sub,
            primes,
            span,
        } = expr
        else {
            unreachable!("symbol() takes symbols")
        };
        let span = *span;
        if *primes > 0 {
            return Err(unreadable(
                span,
                format!("`{0}'` needs an argument, as in `{0}'(a_j)`", shown(base)),
            ));
        }
        let sup_text = sup
            .as_deref()
            .map(|s| format!("^{{{s}}}"))
            .unwrap_or_default();
        let sub_text = sub
            .as_deref()
            .map(|s| format!("_{{{s}}}"))
            .unwrap_or_default();
        // The whole symbol, scripts and all, may name a scalar family (`E_n`).
        if let Some(found) = self.scalar_named(&format!("{base}{sup_text}{sub_text}")) {
            return Ok(found);
        }
        let indices: Vec<String> = sub
            .as_deref()
            .map(|s| self.split_indices(s))
            .unwrap_or_default();
        // With its superscript as part of the symbol (`w^{(2)}`).
        if sup.is_some()
            && let Some(found) = self.indexed(&format!("{base}{sup_text}"), &indices, span)?
        {
            return Ok(found);
        }
        let plain = self.indexed(base, &indices, span)?;
        let value = match plain {
            Some(found) => found,
            None => {
                // The Kronecker delta, as the notation prints it or as `\delta`.
                let kronecker = base == "\\delta" || *base == self.model.kronecker_latex;
                if kronecker && indices.len() == 2 {
                    let a = self.index(&indices[0], span)?;
                    let b = self.index(&indices[1], span)?;
                    if self.model.store.var(a).range != self.model.store.var(b).range {
                        return Err(mistake(
                            span,
                            "a Kronecker delta joins indices of different ranges",
                        ));
                    }
                    self.model.store.delta(a, b)
                } else if base == "\\pi" && sub.is_none() {
                    // π, where no family of the network is written so.
                    let pi = self.model.store.pi();
                    match sup {
                        Some(power) => {
                            let exponent = self.fragment(power, span)?;
                            return Ok(self.model.store.pow(pi, exponent));
                        }
                        None => return Ok(pi),
                    }
                } else if (base == "e" || base == "\\mathrm{e}") && sup.is_some() && sub.is_none() {
                    let exponent = self.fragment(sup.as_deref().expect("checked"), span)?;
                    return Ok(self.model.store.builtin(Builtin::Exp, exponent));
                } else {
                    return Err(self.unknown_symbol(base, !indices.is_empty(), span));
                }
            }
        };
        match sup {
            Some(power) => {
                let exponent = self.fragment(power, span)?;
                Ok(self.model.store.pow(value, exponent))
            }
            None => Ok(value),
        }
    }

    fn fragment(&mut self, text: &str, span: Span) -> Result<ExprId, ResolveError> {
        let parsed = parse_fragment(text).ok_or_else(|| {
            unreadable(span, format!("cannot read the exponent `{}`", shown(text)))
        })?;
        self.resolve(&parsed)
    }

    /// The variable of an index name: bound by a sum, free in the query, or
    /// a declared index left free (which the grade reports as a missing sum).
    /// An index argument with arithmetic as an answer writes it: `t-p+1`,
    /// `2i+p`, `t+1`.
    fn arithmetic(&mut self, text: &str, span: Span) -> Result<Index, ResolveError> {
        let mut terms = Vec::new();
        let mut constant: i64 = 0;
        let mut sign = 1;
        let mut term = String::new();
        for c in text.chars().chain(std::iter::once('+')) {
            if c != '+' && c != '-' {
                term.push(c);
                continue;
            }
            if !term.is_empty() {
                let digits: String = term.chars().take_while(char::is_ascii_digit).collect();
                let name = term[digits.len()..].trim_start_matches(['*', '\\']);
                let name = name.strip_prefix("cdot").unwrap_or(name);
                let number = if digits.is_empty() {
                    1
                } else {
                    digits
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n <= MAX_INDEX_LITERAL)
                        .ok_or_else(|| {
                            unreadable(
                                span,
                                format!("`{}` is too large for an index", shown(&digits)),
                            )
                        })?
                };
                if name.is_empty() {
                    constant += sign * number;
                } else {
                    terms.push((self.index(name, span)?, sign * number));
                }
            } else if c == '+' && sign == -1 {
                return Err(unreadable(
                    span,
                    format!("cannot read the index `{}`", shown(text)),
                ));
            }
            term.clear();
            sign = if c == '-' { -1 } else { 1 };
        }
        Ok(self.model.store.index(&terms, constant))
    }

    fn index(&self, name: &str, span: Span) -> Result<IndexVar, ResolveError> {
        self.index_var(name)
            .or_else(|| self.model.indices.get(name).copied())
            .ok_or_else(|| unreadable(span, format!("unknown index `{}`", shown(name))))
    }

    /// Every symbol a family may be written with: its notation, its name,
    /// and its delta's notation, each with what it stands for.
    fn symbols(&self) -> Vec<(String, FamilyId, bool)> {
        let mut found = Vec::new();
        for family in self.model.family_ids() {
            let info = self.model.family(family);
            let latex = info
                .latex
                .clone()
                .unwrap_or_else(|| default_latex(&info.name));
            found.push((normalize(&latex), family, false));
            found.push((normalize(&info.name), family, false));
            found.push((
                normalize(&format!("\\mathrm{{{}}}", info.name)),
                family,
                false,
            ));
            // A scalar named with a number (`b0`) as students write it,
            // the number as a subscript (`b_0`).
            let letters = info.name.trim_end_matches(|c: char| c.is_ascii_digit());
            if info.ranges.is_empty() && !letters.is_empty() && letters.len() < info.name.len() {
                let number = &info.name[letters.len()..];
                found.push((normalize(&format!("{letters}_{{{number}}}")), family, false));
            }
            if let Some(delta) = &info.delta_latex {
                found.push((normalize(delta), family, true));
            }
            // The name the printer gives a delta that shares its symbol.
            found.push((
                normalize(&format!("\\delta^{{({})}}", info.name)),
                family,
                true,
            ));
        }
        found
    }

    /// The symbols of families (and deltas) whose notation carries a layer
    /// mark, a parenthesised superscript such as `w^{(2)}`, with the mark
    /// left out.
    fn unmarked_symbols(&self) -> Vec<(String, FamilyId, bool)> {
        let mut found = Vec::new();
        for family in self.model.family_ids() {
            let info = self.model.family(family);
            let latex = info
                .latex
                .clone()
                .unwrap_or_else(|| default_latex(&info.name));
            let notations = [
                (Some(latex.as_str()), false),
                (info.delta_latex.as_deref(), true),
            ];
            for (notation, is_delta) in notations {
                if let Some(unmarked) = notation.and_then(without_layer_mark) {
                    found.push((normalize(&unmarked), family, is_delta));
                }
            }
        }
        found
    }

    /// The mistake of a specific element (`x_1`) where the answer must hold
    /// at a generic one: it names the index to write instead, the query's
    /// own over the same range when there is one.
    fn specific_element(
        &self,
        symbol: &str,
        names: &[String],
        position: usize,
        family: FamilyId,
        span: Span,
    ) -> ResolveError {
        let range = self.model.family(family).ranges.get(position).copied();
        let index = self
            .free
            .iter()
            .find(|v| Some(self.model.store.var(**v).range) == range)
            .map(|v| self.model.store.var(*v).name.clone());
        let mut generic = names.to_vec();
        let instead = match &index {
            Some(name) => {
                generic[position] = name.clone();
                format!(
                    ": write `{}_{{{}}}`",
                    shown(symbol),
                    shown(&generic.join(""))
                )
            }
            None => ": write an index in its place".to_string(),
        };
        mistake(
            span,
            format!(
                "`{}_{{{}}}` is one element, but the result holds at every element{instead}",
                shown(symbol),
                shown(&names.join(""))
            ),
        )
    }

    fn scalar_named(&mut self, symbol: &str) -> Option<ExprId> {
        let wanted = normalize(symbol);
        let matches: Vec<(FamilyId, bool)> = self
            .symbols()
            .into_iter()
            .filter(|(s, f, _)| *s == wanted && self.model.family(*f).ranges.is_empty())
            .map(|(_, f, d)| (f, d))
            .collect();
        let (family, is_delta) = *matches.first()?;
        Some(if is_delta {
            self.model.store.adjoint::<IndexVar>(family, &[])
        } else {
            self.model.store.reference::<IndexVar>(family, &[])
        })
    }

    /// The family (or delta) written `symbol` with these indices, chosen by
    /// the ranges of the indices when several share the symbol.
    fn indexed(
        &mut self,
        symbol: &str,
        names: &[String],
        span: Span,
    ) -> Result<Option<ExprId>, ResolveError> {
        let wanted = normalize(symbol);
        let named = |symbols: Vec<(String, FamilyId, bool)>| -> Vec<(FamilyId, bool)> {
            symbols
                .into_iter()
                .filter(|(s, f, _)| {
                    *s == wanted && self.model.family(*f).ranges.len() == names.len()
                })
                .map(|(_, f, d)| (f, d))
                .collect()
        };
        // A symbol as the file writes it first; else one written without
        // its layer mark (`w_{kj}` for `w^{(2)}_{kj}`, as Bishop writes),
        // which the ranges of its indices decide between.
        let mut candidates = named(self.symbols());
        if candidates.is_empty() {
            candidates = named(self.unmarked_symbols());
        }
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut arguments: Vec<Index> = Vec::new();
        for (position, name) in names.iter().enumerate() {
            if name.chars().all(|c| c.is_ascii_digit()) {
                return Err(self.specific_element(symbol, names, position, candidates[0].0, span));
            }
            arguments.push(if name.contains(['+', '-']) {
                self.arithmetic(name, span)?
            } else {
                Index::Var(self.index(name, span)?)
            });
        }
        // A bare name sits in a position of its own range; an argument
        // with arithmetic in any.
        let fitting: Vec<(FamilyId, bool)> = candidates
            .iter()
            .copied()
            .filter(|(f, _)| {
                let ranges = &self.model.family(*f).ranges;
                arguments.iter().zip(ranges).all(|(argument, r)| {
                    argument
                        .as_var()
                        .is_none_or(|v| self.model.store.var(v).range == *r)
                })
            })
            .collect();
        let vars: Vec<IndexVar> = arguments.iter().filter_map(|a| a.as_var()).collect();
        let mut unique: Vec<(FamilyId, bool)> = Vec::new();
        for candidate in fitting {
            if !unique.contains(&candidate) {
                unique.push(candidate);
            }
        }
        match unique.as_slice() {
            [] => {
                let describe = |me: &Self, var: IndexVar| {
                    me.model.ranges[me.model.store.var(var).range.0 as usize]
                        .name
                        .clone()
                };
                let reversed: Vec<IndexVar> = vars.iter().rev().copied().collect();
                let fits_reversed = |family: FamilyId| {
                    vars.len() == 2
                        && arguments.len() == 2
                        && reversed
                            .iter()
                            .zip(&self.model.family(family).ranges)
                            .all(|(v, r)| self.model.store.var(*v).range == *r)
                };
                let transposed = candidates.iter().find(|(f, _)| fits_reversed(*f));
                let (family, _) = *transposed.unwrap_or(&candidates[0]);
                if transposed.is_some() {
                    return Err(mistake(
                        span,
                        format!(
                            "transposed weight indices: `{0}_{{{1}}}` should be `{0}_{{{2}}}`",
                            shown(symbol),
                            shown(&names.join("")),
                            shown(&names.iter().rev().cloned().collect::<Vec<_>>().join(""))
                        ),
                    ));
                }
                let info = self.model.family(family);
                let wanted_ranges: Vec<String> = info
                    .ranges
                    .iter()
                    .map(|r| self.model.ranges[r.0 as usize].name.clone())
                    .collect();
                let found: Vec<String> = names
                    .iter()
                    .zip(&arguments)
                    .filter_map(|(n, a)| {
                        let v = a.as_var()?;
                        Some(format!("`{}` ranges over {}", shown(n), describe(self, v)))
                    })
                    .collect();
                Err(mistake(
                    span,
                    format!(
                        "`{}` takes indices over {}, but {}",
                        shown(symbol),
                        wanted_ranges.join(", "),
                        found.join(" and ")
                    ),
                ))
            }
            [(family, is_delta)] => Ok(Some(if *is_delta {
                self.model.store.adjoint(*family, &arguments)
            } else {
                self.model.store.reference(*family, &arguments)
            })),
            several => {
                let names: Vec<String> = several
                    .iter()
                    .map(|(f, _)| format!("`{}`", self.model.family(*f).name))
                    .collect();
                Err(unreadable(
                    span,
                    format!(
                        "`{}` is ambiguous: it may be {}",
                        shown(symbol),
                        names.join(" or ")
                    ),
                ))
            }
        }
    }

    /// Why `base` names no family, `indexed` when the answer gave it
    /// indices.
    fn unknown_symbol(&self, base: &str, indexed: bool, span: Span) -> ResolveError {
        // The symbols as the file writes them: each family's notation and
        // its delta's, shown in LaTeX; the family's own name is accepted too.
        let mut known: Vec<(String, String)> = Vec::new();
        for family in self.model.family_ids() {
            let info = self.model.family(family);
            let latex = info
                .latex
                .clone()
                .unwrap_or_else(|| default_latex(&info.name));
            known.push((normalize(&latex), latex));
            if let Some(delta) = &info.delta_latex {
                known.push((normalize(delta), delta.clone()));
            }
        }
        known.sort();
        known.dedup();
        let wanted = normalize(base);
        let written_with_indices = indexed;
        // A known symbol written with the wrong number of indices.
        let indexed: Vec<String> = self
            .model
            .family_ids()
            .filter(|f| {
                let info = self.model.family(*f);
                let latex = info
                    .latex
                    .clone()
                    .unwrap_or_else(|| default_latex(&info.name));
                normalize(&latex) == wanted && !info.slots.is_empty()
            })
            .map(|f| {
                let info = self.model.family(f);
                let latex = info
                    .latex
                    .clone()
                    .unwrap_or_else(|| default_latex(&info.name));
                let names: Vec<String> = info
                    .slots
                    .iter()
                    .map(|v| self.model.store.var(*v).name.clone())
                    .collect();
                format!("`{latex}_{{{}}}`", names.join(""))
            })
            .collect();
        if !indexed.is_empty() {
            return unreadable(
                span,
                format!(
                    "`{}` is written with its indices, as {}",
                    shown(base),
                    indexed.join(" or ")
                ),
            );
        }
        if written_with_indices && known.iter().any(|(n, _)| *n == wanted) {
            return unreadable(
                span,
                format!(
                    "`{}` is a single number in this network: it takes no index",
                    shown(base)
                ),
            );
        }
        let mut message = format!("unknown symbol `{}`", shown(base));
        // One letter is close to every other letter: list the symbols instead.
        let near = (wanted.chars().count() > 2)
            .then(|| closest(&wanted, known.iter().map(|(n, _)| n.as_str())))
            .flatten()
            .and_then(|n| {
                known
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, shown)| shown.clone())
            });
        match near {
            Some(near) => message.push_str(&format!("; the closest known symbol is `{near}`")),
            None => {
                let listed: Vec<String> = known
                    .iter()
                    .take(12)
                    .map(|(_, s)| format!("`{s}`"))
                    .collect();
                message.push_str(&format!("; the known symbols are {}", listed.join(", ")));
            }
        }
        unreadable(span, message)
    }
}

/// A notation with its layer mark, the superscript `^{(...)}`, left out:
/// `w` for `w^{(2)}`; none when it has no such mark.
fn without_layer_mark(notation: &str) -> Option<String> {
    let start = notation.find("^{(")?;
    let end = start + notation[start..].find(")}")? + 2;
    let unmarked = format!("{}{}", &notation[..start], &notation[end..]);
    (!unmarked.trim().is_empty()).then_some(unmarked)
}
