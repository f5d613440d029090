package org.modelpack.csi.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PromQL of a Grafana dashboard and the metric names it reads: every panel target's
 * {@code expr} (rows' nested panels included) and every query variable's query, cut into tokens
 * so that what is left after functions, keywords, label matchers, grouping labels, strings,
 * numbers, durations and Grafana variables is the series names.
 */
final class DashboardQueries {
  /** One query and where it is, for messages. */
  record Query(String where, String text) {}

  /** PromQL aggregations, keywords and function names that can appear without a paren. */
  private static final Set<String> NOT_METRICS = Set.of("sum", "min", "max", "avg", "group",
      "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk",
      "limit_ratio", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
      "unless", "bool", "offset", "inf", "nan", "atan2");
  private static final Pattern STRING = Pattern.compile(
      "\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
  private static final Pattern GRAFANA_VARIABLE = Pattern.compile(
      "\\$\\{[^}]*}|\\$\\w+|\\[\\[\\w+]]");
  private static final Pattern LABEL_MATCHERS = Pattern.compile("\\{[^}]*}");
  private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
  private static final Pattern GROUPING = Pattern.compile(
      "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern TOKEN = Pattern.compile(
      "(0x[0-9a-fA-F]+|\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?(?:ms|[smhdwy])*)"
          + "|([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");
  private static final Pattern LABEL_VALUES_OF_METRIC = Pattern.compile(
      "\\s*label_values\\((.*),\\s*[a-zA-Z_]\\w*\\s*\\)\\s*", Pattern.DOTALL);
  private static final Pattern QUERY_RESULT = Pattern.compile(
      "\\s*query_result\\((.*)\\)\\s*", Pattern.DOTALL);
  private static final Pattern NO_METRIC_QUERY = Pattern.compile(
      "\\s*(label_values\\(\\s*\\w+\\s*\\)|label_names\\(.*\\)|metrics\\(.*\\))\\s*",
      Pattern.DOTALL);

  private DashboardQueries() {}

  /** Every panel target's expr, nested rows' panels included, and every query variable. */
  static List<Query> of(JsonNode dashboard) {
    List<Query> queries = new ArrayList<>();
    collectTargets(dashboard.path("panels"), queries);
    for (JsonNode variable : dashboard.at("/templating/list")) {
      if (variable.path("type").asText().equals("query")) {
        JsonNode query = variable.path("query");
        queries.add(new Query("variable $" + variable.path("name").asText(),
            query.isTextual() ? query.asText() : query.path("query").asText()));
      }
    }
    return queries;
  }

  private static void collectTargets(JsonNode panels, List<Query> queries) {
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        if (target.hasNonNull("expr")) {
          queries.add(new Query("panel '" + panel.path("title").asText() + "' target "
              + target.path("refId").asText(), target.get("expr").asText()));
        }
      }
      collectTargets(panel.path("panels"), queries);
    }
  }

  /**
   * The series names {@code query} reads: a PromQL expression, or a Grafana Prometheus variable
   * query ({@code label_values(metric, label)}, {@code query_result(expr)}, ...).
   */
  static Set<String> metricNames(String query) {
    String expr = promQlOf(query);
    String rest = STRING.matcher(expr).replaceAll("\"\"");
    rest = GRAFANA_VARIABLE.matcher(rest).replaceAll("0");
    rest = LABEL_MATCHERS.matcher(rest).replaceAll(" ");
    rest = RANGE.matcher(rest).replaceAll(" ");
    rest = GROUPING.matcher(rest).replaceAll(" $1 ");
    Set<String> names = new LinkedHashSet<>();
    Matcher token = TOKEN.matcher(rest);
    while (token.find()) {
      String identifier = token.group(2);
      boolean called = token.group(3) != null;
      if (identifier != null && !called && !NOT_METRICS.contains(identifier.toLowerCase())) {
        names.add(identifier);
      }
    }
    return names;
  }

  private static String promQlOf(String query) {
    if (NO_METRIC_QUERY.matcher(query).matches()) {
      return "";
    }
    for (Pattern wrapper : List.of(LABEL_VALUES_OF_METRIC, QUERY_RESULT)) {
      Matcher m = wrapper.matcher(query);
      if (m.matches()) {
        return m.group(1);
      }
    }
    return query;
  }

  /** "where: name" for every name a query reads that is not in {@code exported}. */
  static List<String> unknownMetrics(List<Query> queries, Set<String> exported) {
    List<String> unknown = new ArrayList<>();
    for (Query q : queries) {
      for (String name : metricNames(q.text())) {
        if (!exported.contains(name)) {
          unknown.add(q.where() + ": " + name + " in " + q.text());
        }
      }
    }
    return unknown;
  }
}
