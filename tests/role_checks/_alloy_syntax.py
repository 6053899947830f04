# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A parser for Grafana Alloy's configuration syntax, to check rendered configurations where Alloy cannot run.

It follows the language reference: a file is a body of attributes (``name = expr``) and blocks
(``name.path "label" { body }``); expressions are literals (strings with Go's escapes, raw strings in backquotes,
numbers, true/false/null), lists, objects (``{ key = expr, "key" = expr }``), references (``a.b.c``), indexing, calls
and unary/binary operators. Newlines end statements the way Go's semicolon insertion does, so a multi-line list or
object needs its trailing comma, exactly as Alloy requires. ``//`` and ``/* */`` comments are skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import operator
import re


class AlloySyntaxError(ValueError):
    def __init__(self, message, line):
        super(AlloySyntaxError, self).__init__("line %d: %s" % (line, message))
        self.line = line


class Attribute(object):
    def __init__(self, name, value, line):
        self.name, self.value, self.line = name, value, line

    def __repr__(self):
        return "Attribute(%s = %r)" % (self.name, self.value)


class Block(object):
    def __init__(self, name, label, body, line):
        self.name, self.label, self.body, self.line = name, label, body, line

    @property
    def attributes(self):
        return dict((item.name, item.value) for item in self.body if isinstance(item, Attribute))

    def blocks(self, name=None):
        return [item for item in self.body if isinstance(item, Block) and (name is None or item.name == name)]

    def __repr__(self):
        return "Block(%s %r, %d items)" % (self.name, self.label, len(self.body))


class Expr(object):
    """kind: literal (value), ref (name), access (target, name), index (target, key), call (func, args),
    list (items), object (items: [(key, expr)]), unary (op, operand), binary (op, left, right), paren (inner)."""

    def __init__(self, kind, line, **fields):
        self.kind, self.line = kind, line
        self.__dict__.update(fields)

    def __repr__(self):
        fields = dict((k, v) for k, v in self.__dict__.items() if k not in ("kind", "line"))
        return "Expr(%s, %r)" % (self.kind, fields)


_PUNCT = ("==", "!=", "<=", ">=", "&&", "||", "{", "}", "[", "]", "(", ")", ",", ".", "=", "<", ">", "+", "-", "*",
          "/", "%", "^", "!")
_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}
# Tokens after which a newline ends the statement (Go's rule)
_ENDS_OPERAND = ("IDENT", "STRING", "NUMBER", ")", "]", "}")
_BINARY = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"), ("^",)]


def _string(text, pos, line):
    """The string literal starting at text[pos] == '"': (value, end position)."""
    out, i = [], pos + 1
    while True:
        if i >= len(text) or text[i] == "\n":
            raise AlloySyntaxError("unterminated string", line)
        char = text[i]
        if char == '"':
            return "".join(out), i + 1
        if char != "\\":
            out.append(char)
            i += 1
            continue
        esc = text[i + 1:i + 2]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            i += 2
        elif esc in ("x", "u", "U"):
            size = {"x": 2, "u": 4, "U": 8}[esc]
            digits = text[i + 2:i + 2 + size]
            if len(digits) != size or not re.match(r"^[0-9A-Fa-f]+$", digits):
                raise AlloySyntaxError("invalid \\%s escape in string" % esc, line)
            out.append(chr(int(digits, 16)))
            i += 2 + size
        elif re.match(r"^[0-7]{3}$", text[i + 1:i + 4]):
            out.append(chr(int(text[i + 1:i + 4], 8)))
            i += 4
        else:
            raise AlloySyntaxError("unknown escape sequence \\%s in string" % esc, line)


def tokenize(text):
    """[(kind, value, line)]: IDENT, STRING, NUMBER, punctuation (kind == value), NEWLINE, EOF."""
    tokens, i, line = [], 0, 1

    def newline():
        if tokens and tokens[-1][0] in _ENDS_OPERAND:
            tokens.append(("NEWLINE", "\n", line))

    while i < len(text):
        char = text[i]
        if char == "\n":
            newline()
            line += 1
            i += 1
        elif char in " \t\r":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise AlloySyntaxError("unterminated block comment", line)
            if "\n" in text[i:end]:
                newline()
                line += text.count("\n", i, end)
            i = end + 2
        elif char == '"':
            value, i = _string(text, i, line)
            tokens.append(("STRING", value, line))
        elif char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise AlloySyntaxError("unterminated raw string", line)
            value = text[i + 1:end]
            tokens.append(("STRING", value, line))
            line += value.count("\n")
            i = end + 1
        elif char.isdigit():
            match = _NUMBER_RE.match(text, i)
            literal = match.group(0)
            tokens.append(("NUMBER", float(literal) if ("." in literal or "e" in literal.lower()) else int(literal),
                           line))
            i = match.end()
        elif _IDENT_RE.match(text, i):
            match = _IDENT_RE.match(text, i)
            tokens.append(("IDENT", match.group(0), line))
            i = match.end()
        else:
            for punct in _PUNCT:
                if text.startswith(punct, i):
                    tokens.append((punct, punct, line))
                    i += len(punct)
                    break
            else:
                raise AlloySyntaxError("unexpected character %r" % char, line)
    newline()
    tokens.append(("EOF", "", line))
    return tokens


class _Parser(object):
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset=0):
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def next(self):
        token = self.peek()
        self.pos += 1
        return token

    def expect(self, kind, what=None):
        token = self.next()
        if token[0] != kind:
            raise AlloySyntaxError("expected %s, got %s" % (what or repr(kind), _show(token)), token[2])
        return token

    def skip_newlines(self):
        while self.peek()[0] == "NEWLINE":
            self.pos += 1

    def body(self, closing):
        items = []
        self.skip_newlines()
        while self.peek()[0] != closing:
            items.append(self.statement())
            token = self.peek()
            if token[0] == "NEWLINE":
                self.skip_newlines()
            elif token[0] != closing:
                raise AlloySyntaxError("expected a newline after the statement, got %s" % _show(token), token[2])
        return items

    def statement(self):
        first = self.expect("IDENT", "an attribute or block name")
        if self.peek()[0] == "=":
            self.next()
            return Attribute(first[1], self.expression(), first[2])
        parts = [first[1]]
        while self.peek()[0] == ".":
            self.next()
            parts.append(self.expect("IDENT", "a name after '.'")[1])
        label = None
        if self.peek()[0] == "STRING":
            label = self.next()[1]
        self.expect("{", "'{' or '=' after %s" % ".".join(parts))
        body = self.body("}")
        self.expect("}")
        return Block(".".join(parts), label, body, first[2])

    def expression(self, level=0):
        if level == len(_BINARY):
            return self.unary()
        left = self.expression(level + 1)
        while self.peek()[0] in _BINARY[level]:
            token = self.next()
            self.skip_newlines()
            left = Expr("binary", token[2], op=token[0], left=left, right=self.expression(level + 1))
        return left

    def unary(self):
        if self.peek()[0] in ("-", "!"):
            token = self.next()
            return Expr("unary", token[2], op=token[0], operand=self.unary())
        return self.postfix(self.primary())

    def postfix(self, expr):
        while True:
            kind = self.peek()[0]
            if kind == ".":
                self.next()
                name = self.expect("IDENT", "a field name after '.'")
                expr = Expr("access", name[2], target=expr, name=name[1])
            elif kind == "[":
                self.next()
                key = self.expression()
                self.expect("]")
                expr = Expr("index", expr.line, target=expr, key=key)
            elif kind == "(":
                self.next()
                expr = Expr("call", expr.line, func=expr, args=self.sequence(")", self.expression))
            else:
                return expr

    def sequence(self, closing, element):
        """Elements separated by commas up to ``closing``; a newline after an element needs a comma before it."""
        items = []
        self.skip_newlines()
        while self.peek()[0] != closing:
            items.append(element())
            token = self.peek()
            if token[0] == ",":
                self.next()
                self.skip_newlines()
            elif token[0] != closing:
                raise AlloySyntaxError("expected ',' or %r, got %s (a multi-line list or object needs a trailing "
                                       "comma)" % (closing, _show(token)), token[2])
        self.expect(closing)
        return items

    def object_item(self):
        key = self.next()
        if key[0] not in ("IDENT", "STRING"):
            raise AlloySyntaxError("expected an object key, got %s" % _show(key), key[2])
        self.expect("=", "'=' after the object key %r" % key[1])
        return key[1], self.expression()

    def primary(self):
        token = self.next()
        kind, value, line = token
        if kind in ("STRING", "NUMBER"):
            return Expr("literal", line, value=value)
        if kind == "IDENT":
            if value in ("true", "false"):
                return Expr("literal", line, value=value == "true")
            if value == "null":
                return Expr("literal", line, value=None)
            return Expr("ref", line, name=value)
        if kind == "[":
            return Expr("list", line, items=self.sequence("]", self.expression))
        if kind == "{":
            return Expr("object", line, items=self.sequence("}", self.object_item))
        if kind == "(":
            inner = self.expression()
            self.expect(")")
            return Expr("paren", line, inner=inner)
        raise AlloySyntaxError("expected an expression, got %s" % _show(token), line)


def _show(token):
    return {"NEWLINE": "a newline", "EOF": "the end of the file"}.get(token[0], repr(token[1]))


def parse(text):
    """The file's top-level statements (Attributes and Blocks); raises AlloySyntaxError."""
    parser = _Parser(text)
    items = parser.body("EOF")
    parser.expect("EOF")
    return items


def reference(expr):
    """``a.b.c`` of a reference expression, else None."""
    if expr.kind == "ref":
        return expr.name
    if expr.kind == "access":
        base = reference(expr.target)
        return None if base is None else base + "." + expr.name
    return None


def references(expr):
    """Every reference (dotted name) used in an expression, calls' function names excluded."""
    found = []
    if expr.kind in ("ref", "access"):
        name = reference(expr)
        if name is not None:
            return [name]
        return references(expr.target)
    if expr.kind == "call":
        func = reference(expr.func)
        found.extend([] if func is not None else references(expr.func))
        for arg in expr.args:
            found.extend(references(arg))
    elif expr.kind == "index":
        found.extend(references(expr.target) + references(expr.key))
    elif expr.kind == "list":
        for item in expr.items:
            found.extend(references(item))
    elif expr.kind == "object":
        for _key, item in expr.items:
            found.extend(references(item))
    elif expr.kind == "unary":
        found.extend(references(expr.operand))
    elif expr.kind == "binary":
        found.extend(references(expr.left) + references(expr.right))
    elif expr.kind == "paren":
        found.extend(references(expr.inner))
    return found


def literal(expr):
    """The Python value of an expression made of literals, lists and objects only (ValueError otherwise)."""
    if expr.kind == "literal":
        return expr.value
    if expr.kind == "list":
        return [literal(item) for item in expr.items]
    if expr.kind == "object":
        return dict((key, literal(item)) for key, item in expr.items)
    if expr.kind == "paren":
        return literal(expr.inner)
    if expr.kind == "unary":
        value = literal(expr.operand)
        if expr.op == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return operator.neg(value)
        if expr.op == "!" and isinstance(value, bool):
            return not value
    raise ValueError("line %d: not a literal: %r" % (expr.line, expr))


def walk(items):
    """Every Attribute of a body, nested blocks included, with the Block path leading to it."""
    for item in items:
        if isinstance(item, Attribute):
            yield (), item
        else:
            for path, attribute in walk(item.body):
                yield (item,) + path, attribute
