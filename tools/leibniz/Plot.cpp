//===- Plot.cpp - Loss curves as SVG ----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
// `leibniz plot trace.csv -o curves.svg` draws the loss histories that
// `leibniz run --trace=trace.csv` writes: one curve per run of each
// optimizer loop, a color per loop, the loss on a logarithmic axis when
// every loss is positive.
//
//===----------------------------------------------------------------------===//

#include "Plot.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

using namespace llvm;

namespace {

/// One run of one optimizer loop: its points (step, loss) in order.
struct Series {
  unsigned loop;
  int64_t run;
  std::vector<std::pair<double, double>> points;
};

/// The loops of a trace, in the order they first appear, and their runs.
struct Trace {
  std::vector<std::string> loops;
  std::vector<Series> series;
};

/// `text` as it may be echoed in a message: bytes other than printable ASCII
/// as escapes.
std::string escaped(StringRef text) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::printEscapedString(text, os);
  return result;
}

/// Parses the CSV of `leibniz run --trace`; reports the first malformed
/// line as "file:line: error: ...".
bool parseTrace(StringRef path, StringRef text, Trace &trace) {
  SmallVector<StringRef> lines;
  text.split(lines, '\n');
  auto fail = [&](size_t line, const Twine &message) {
    errs() << path << ":" << line << ": error: " << message << "\n";
    return false;
  };
  if (lines.empty() || lines[0].rtrim("\r") != "loop,run,step,loss")
    return fail(1, "expected the header 'loop,run,step,loss' of a trace "
                   "written by 'leibniz run --trace'");
  StringMap<unsigned> loopIndex;
  std::map<std::pair<unsigned, int64_t>, size_t> seriesIndex;
  for (size_t n = 1; n < lines.size(); ++n) {
    StringRef line = lines[n].rtrim("\r");
    if (line.empty())
      continue;
    size_t number = n + 1;
    // The loop, quoted when it holds a comma, a quote doubled inside.
    std::string loop;
    StringRef rest;
    if (line.consume_front("\"")) {
      for (;;) {
        size_t end = line.find('"');
        if (end == StringRef::npos)
          return fail(number, "unterminated quoted loop name");
        loop += line.take_front(end);
        line = line.drop_front(end + 1);
        if (!line.consume_front("\""))
          break;
        loop += '"';
      }
      rest = line;
      if (!rest.consume_front(","))
        return fail(number, "expected ',' after the loop name");
    } else {
      StringRef name;
      std::tie(name, rest) = line.split(',');
      loop = name.str();
    }
    SmallVector<StringRef> fields;
    rest.split(fields, ',');
    if (loop.empty() || fields.size() != 3)
      return fail(number, "expected 4 fields: loop,run,step,loss");
    int64_t run, step;
    if (fields[0].trim().getAsInteger(10, run) || run < 0)
      return fail(number, "the run '" + escaped(fields[0]) +
                              "' is not a non-negative integer");
    if (fields[1].trim().getAsInteger(10, step) || step < 0)
      return fail(number, "the step '" + escaped(fields[1]) +
                              "' is not a non-negative integer");
    double loss;
    StringRef lossText = fields[2].trim();
    if (lossText == "nan" || lossText == "-nan")
      loss = std::numeric_limits<double>::quiet_NaN();
    else if (lossText == "inf" || lossText == "-inf")
      loss = lossText == "inf" ? std::numeric_limits<double>::infinity()
                               : -std::numeric_limits<double>::infinity();
    else if (lossText.getAsDouble(loss))
      return fail(number,
                  "the loss '" + escaped(fields[2]) + "' is not a number");
    auto [it, inserted] = loopIndex.try_emplace(loop, trace.loops.size());
    if (inserted)
      trace.loops.push_back(loop);
    auto key = std::make_pair(it->second, run);
    auto [where, added] = seriesIndex.try_emplace(key, trace.series.size());
    if (added)
      trace.series.push_back({it->second, run, {}});
    trace.series[where->second].points.emplace_back(static_cast<double>(step),
                                                    loss);
  }
  return true;
}

/// A step of 1, 2 or 5 times a power of ten that cuts `range` into about
/// `count` pieces.
double getNiceStep(double range, int count) {
  double raw = range / count;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0})
    if (factor * power >= raw)
      return factor * power;
  return 10.0 * power;
}

/// `value` printed briefly for an axis label.
std::string formatNumber(double value) {
  std::string text;
  raw_string_ostream os(text);
  os << format("%g", value);
  return text;
}

/// `text` with the characters that XML reserves escaped.
std::string escapeXML(StringRef text) {
  std::string result;
  for (char c : text) {
    switch (c) {
    case '<':
      result += "&lt;";
      break;
    case '>':
      result += "&gt;";
      break;
    case '&':
      result += "&amp;";
      break;
    case '"':
      result += "&quot;";
      break;
    default:
      // XML has no control characters other than tab and line breaks, not
      // even as references.
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        result += "\uFFFD";
      else
        result += c;
    }
  }
  return result;
}

/// A coordinate, as SVG reads it.
std::string num(double value) {
  std::string text;
  raw_string_ostream os(text);
  os << format("%.1f", value);
  return text;
}

void writeSVG(const Trace &trace, raw_ostream &os) {
  const double width = 800, height = 500;
  const double left = 80, right = 20, top = 40, bottom = 60;
  // The legend takes a line per loop under the plot.
  double legendHeight = 18.0 * trace.loops.size();
  double plotWidth = width - left - right, plotHeight = height - top - bottom;

  double maxStep = 1, minLoss = std::numeric_limits<double>::infinity(),
         maxLoss = -std::numeric_limits<double>::infinity();
  bool positive = true;
  size_t skipped = 0;
  for (const Series &series : trace.series)
    for (auto [step, loss] : series.points) {
      maxStep = std::max(maxStep, step);
      if (!std::isfinite(loss)) {
        ++skipped;
        continue;
      }
      positive = positive && loss > 0;
      minLoss = std::min(minLoss, loss);
      maxLoss = std::max(maxLoss, loss);
    }
  bool logarithmic = positive && minLoss <= maxLoss;
  auto transform = [&](double loss) {
    return logarithmic ? std::log10(loss) : loss;
  };
  double low = 0, high = 1;
  if (minLoss <= maxLoss) {
    low = transform(minLoss);
    high = transform(maxLoss);
  }
  if (high - low < 1e-12 * std::max(1.0, std::abs(high))) {
    low -= 0.5;
    high += 0.5;
  }
  if (logarithmic) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  auto x = [&](double step) { return left + plotWidth * step / maxStep; };
  auto y = [&](double loss) {
    return top + plotHeight * (1 - (transform(loss) - low) / (high - low));
  };

  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width)
     << "\" height=\"" << num(height + legendHeight)
     << "\" font-family=\"sans-serif\" "
     << "font-size=\"12\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << num(left) << "\" y=\"24\" font-size=\"15\">Loss per "
     << "step" << (logarithmic ? " (log scale)" : "") << "</text>\n";
  // Axes, ticks and grid lines.
  os << "<g stroke=\"#888\" fill=\"none\"><rect x=\"" << num(left) << "\" y=\""
     << num(top) << "\" width=\"" << num(plotWidth) << "\" height=\""
     << num(plotHeight) << "\"/></g>\n";
  double stepTick = std::max(1.0, getNiceStep(maxStep, 5));
  for (double s = 0; s <= maxStep + 1e-9; s += stepTick)
    os << "<line x1=\"" << num(x(s)) << "\" y1=\"" << num(top) << "\" x2=\""
       << num(x(s)) << "\" y2=\"" << num(top + plotHeight)
       << "\" stroke=\"#eee\"/><text x=\"" << num(x(s)) << "\" y=\""
       << num(top + plotHeight + 16) << "\" text-anchor=\"middle\">"
       << formatNumber(s) << "</text>\n";
  double lossTick = logarithmic ? std::max(1.0, std::ceil((high - low) / 8))
                                : getNiceStep(high - low, 5);
  for (double v = std::ceil(low / lossTick) * lossTick; v <= high + 1e-9;
       v += lossTick) {
    double py = top + plotHeight * (1 - (v - low) / (high - low));
    std::string label = logarithmic ? "1e" + formatNumber(v) : formatNumber(v);
    os << "<line x1=\"" << num(left) << "\" y1=\"" << num(py) << "\" x2=\""
       << num(left + plotWidth) << "\" y2=\"" << num(py)
       << "\" stroke=\"#eee\"/><text x=\"" << num(left - 6) << "\" y=\""
       << num(py + 4) << "\" text-anchor=\"end\">" << label << "</text>\n";
  }
  os << "<text x=\"" << num(left + plotWidth / 2) << "\" y=\""
     << num(height - 20) << "\" text-anchor=\"middle\">step</text>\n";

  // A color per loop; every run of a loop is a curve of that color.
  static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c",
                                       "#ff7f0e", "#9467bd", "#8c564b",
                                       "#e377c2", "#17becf"};
  std::vector<int64_t> runs(trace.loops.size(), 0);
  for (const Series &series : trace.series)
    ++runs[series.loop];
  for (const Series &series : trace.series) {
    const char *color = colors[series.loop % std::size(colors)];
    double opacity = runs[series.loop] > 1 ? 0.45 : 1.0;
    // NaN and infinite losses break the curve.
    std::string points;
    auto flush = [&] {
      if (points.empty())
        return;
      os << "<polyline fill=\"none\" stroke=\"" << color
         << "\" stroke-width=\"1.5\" stroke-opacity=\"" << opacity
         << "\" points=\"" << points << "\"/>\n";
      points.clear();
    };
    for (auto [step, loss] : series.points) {
      if (!std::isfinite(loss)) {
        flush();
        continue;
      }
      raw_string_ostream point(points);
      point << format("%.1f,%.1f ", x(step), y(loss));
    }
    flush();
  }
  for (auto [i, loop] : llvm::enumerate(trace.loops)) {
    double ly = height + 18.0 * i - 6;
    os << "<rect x=\"" << num(left) << "\" y=\"" << num(ly - 9)
       << "\" width=\"14\" height=\"4\" fill=\""
       << colors[i % std::size(colors)] << "\"/><text x=\"" << num(left + 20)
       << "\" y=\"" << num(ly) << "\">" << escapeXML(loop) << " — " << runs[i]
       << (runs[i] == 1 ? " run" : " runs") << "</text>\n";
  }
  if (skipped)
    os << "<text x=\"" << num(width - right)
       << "\" y=\"24\" text-anchor=\"end\">" << skipped << " non-finite loss"
       << (skipped == 1 ? "" : "es") << " not drawn</text>\n";
  os << "</svg>\n";
}

} // namespace

int leibniz::plotTrace(StringRef inputPath, raw_ostream &os) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFileOrSTDIN(inputPath);
  if (!buffer) {
    errs() << "leibniz: error: cannot read '" << inputPath
           << "': " << buffer.getError().message() << "\n";
    return 1;
  }
  Trace trace;
  if (!parseTrace(inputPath, (*buffer)->getBuffer(), trace))
    return 1;
  if (trace.series.empty()) {
    errs() << inputPath
           << ": error: the trace has no losses (no minimize or argmin step "
              "ran)\n";
    return 1;
  }
  writeSVG(trace, os);
  return 0;
}
