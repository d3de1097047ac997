"""YAML loading that remembers the line every mapping, key and list item came from.

A SafeLoader subclass builds `LineDict` and `LineList` (plain dict and list subclasses) so
the schema can report `fleet.yaml:12: bots[3].team: ...` without a second parse.
"""

import yaml
from yaml.constructor import ConstructorError

from .errors import ManifestError, ManifestIssue


class LineDict(dict):
    """A mapping with its start line, the line of each key and any keys given twice."""

    def __init__(self, line):
        super().__init__()
        self.line = line
        self.key_lines = {}
        self.duplicate_keys = []  # (key, line) of each repeat

    def line_of(self, key):
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence with its start line and the line of each item."""

    def __init__(self, line):
        super().__init__()
        self.line = line
        self.item_lines = []

    def line_of(self, index):
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry 1-based line numbers."""

    def construct_line_mapping(self, node):
        self.flatten_mapping(node)
        data = LineDict(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError as exc:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found an unhashable key", key_node.start_mark) from exc
            key_line = key_node.start_mark.line + 1
            if key in data:
                data.duplicate_keys.append((key, key_line))
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_line
        return data

    def construct_line_sequence(self, node):
        data = LineList(node.start_mark.line + 1)
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_lines.append(child.start_mark.line + 1)
        return data


LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_line_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_line_sequence)


def yaml_load(*, text, source):
    """Parse one YAML document; a syntax error becomes a ManifestError naming the line."""
    loader = LineLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        line = mark.line + 1 if mark else None
        raise ManifestError([ManifestIssue(source, line, "", f"YAML syntax error: {problem}")]) from exc
    except yaml.YAMLError as exc:
        raise ManifestError([ManifestIssue(source, None, "", f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()
