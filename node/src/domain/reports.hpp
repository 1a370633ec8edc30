// Reports: dossiers received in a period, returned early / on time / late,
// pending and overdue, by procedure and by clerk; satisfaction shares. Built from
// the store's indexes day by day (received_day, rating day): never a scan of
// every record.
// Thread safety: free functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "domain/context.hpp"

namespace wardsync::node {

struct ReportRow {
  std::string key;   // procedure code or clerk username ("" = unassigned)
  std::string name;  // procedure name (by procedure)
  std::uint64_t received = 0, returned = 0, early = 0, on_time = 0, late = 0, pending = 0, overdue = 0, cancelled = 0;
};

struct Satisfaction {
  std::uint64_t satisfied = 0, acceptable = 0, unsatisfied = 0;
  std::uint64_t total() const { return satisfied + acceptable + unsatisfied; }
};

struct Report {
  std::string from, to;
  ReportRow totals;
  std::vector<ReportRow> by_procedure;
  std::vector<ReportRow> by_clerk;
  Satisfaction satisfaction;
  std::vector<std::pair<std::string, Satisfaction>> satisfaction_by_clerk;
};

inline constexpr int kReportDaysMax = 366;

Outcome<Report> build_report(NodeContext& ctx, const std::string& from, const std::string& to);

}  // namespace wardsync::node
