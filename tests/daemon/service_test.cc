// The daemon's service list (daemon/service.h): services bind and start in
// registration order and stop in reverse; the first failure, at every
// position of either phase for lists of 1 to 5 services, is logged with the
// service's name, stops every service already reached (the failing one too)
// in reverse order, calls nothing after it, and is returned again by later
// calls; Reload reaches every service with its cause, only while running;
// Stop is idempotent, also from the destructor and before anything
// started; statistics lines come in registration order.
#include "meshbl/daemon/service.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "meshbl/util/log.h"

namespace meshbl::daemon {
namespace {

using Events = std::vector<std::string>;

// Records each call as "<name>.<call>"; Bind/Start fail when told to.
class Fake : public Service {
 public:
  Fake(std::string name, Events* events) : name_(std::move(name)), events_(events) {}
  std::string_view name() const override { return name_; }
  absl::Status Bind() override {
    events_->push_back(name_ + ".bind");
    return fail_bind ? absl::UnavailableError("port in use") : absl::OkStatus();
  }
  absl::Status Start() override {
    events_->push_back(name_ + ".start");
    return fail_start ? absl::InvalidArgumentError("cannot open x") : absl::OkStatus();
  }
  void Reload(ReloadCause cause) override {
    events_->push_back(name_ + (cause == ReloadCause::kSignal ? ".hup" : ".timer"));
  }
  void Stop() override { events_->push_back(name_ + ".stop"); }
  void AppendStats(std::vector<std::string>* lines) const override {
    lines->push_back(name_ + " stats");
  }
  bool fail_bind = false, fail_start = false;

 private:
  std::string name_;
  Events* events_;
};

std::string Name(std::size_t i) { return absl::StrCat("s", i); }

// Captures the log's error lines (stderr) for the life of the object.
class LogCapture {
 public:
  LogCapture() {
    util::LogToStdio();
    testing::internal::CaptureStderr();
  }
  Events Lines() {
    std::string err = testing::internal::GetCapturedStderr();
    captured_ = true;
    return absl::StrSplit(err, '\n', absl::SkipEmpty());
  }
  ~LogCapture() {
    if (!captured_) (void)testing::internal::GetCapturedStderr();
  }

 private:
  bool captured_ = false;
};

TEST(ServiceList, StartsInOrderReloadsEveryServiceAndStopsInReverseOnce) {
  for (std::size_t n = 0; n <= 5; ++n) {
    Events ev;
    {
      ServiceList list;
      for (std::size_t i = 0; i < n; ++i) list.Add(std::make_unique<Fake>(Name(i), &ev));
      EXPECT_EQ(list.size(), n);
      list.Reload(ReloadCause::kSignal);  // not started: nothing
      ASSERT_TRUE(list.Bind().ok());
      ASSERT_TRUE(list.Start().ok());
      ASSERT_TRUE(list.Start().ok());  // once
      list.Reload(ReloadCause::kSignal);
      list.Reload(ReloadCause::kTimer);
      Events stats = list.StatsLines();
      Events want_stats;
      for (std::size_t i = 0; i < n; ++i) want_stats.push_back(Name(i) + " stats");
      EXPECT_EQ(stats, want_stats);
      list.Stop();
      list.Stop();
      list.Reload(ReloadCause::kSignal);  // stopped: nothing
      EXPECT_FALSE(list.Start().ok()) << "no restart after Stop()";
    }  // the destructor does not stop again
    Events want;
    for (std::size_t i = 0; i < n; ++i) want.push_back(Name(i) + ".bind");
    for (std::size_t i = 0; i < n; ++i) want.push_back(Name(i) + ".start");
    for (std::size_t i = 0; i < n; ++i) want.push_back(Name(i) + ".hup");
    for (std::size_t i = 0; i < n; ++i) want.push_back(Name(i) + ".timer");
    for (std::size_t i = n; i-- > 0;) want.push_back(Name(i) + ".stop");
    EXPECT_EQ(ev, want) << n;
  }
}

TEST(ServiceList, FirstFailureStopsEveryServiceReachedInReverseAndIsReturned) {
  for (std::size_t n = 1; n <= 5; ++n) {
    for (bool in_start : {false, true}) {
      for (std::size_t bad = 0; bad < n; ++bad) {
        SCOPED_TRACE(absl::StrCat("n=", n, " failing ", in_start ? "Start" : "Bind", " of s", bad));
        Events ev;
        LogCapture log;
        ServiceList list;
        for (std::size_t i = 0; i < n; ++i) {
          Fake* f = list.Add(std::make_unique<Fake>(Name(i), &ev));
          // A later service that would fail too is never reached.
          const bool fails = i >= bad;
          (in_start ? f->fail_start : f->fail_bind) = fails;
        }
        absl::Status st = list.Start();
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.message(), in_start ? "cannot open x" : "port in use");
        Events lines = log.Lines();
        ASSERT_EQ(lines.size(), 1u);
        EXPECT_EQ(lines[0], "meshbld: " + Name(bad) + ": " + std::string(st.message()));
        Events want;
        const std::size_t bound = in_start ? n : bad + 1;
        for (std::size_t i = 0; i < bound; ++i) want.push_back(Name(i) + ".bind");
        if (in_start) {
          for (std::size_t i = 0; i <= bad; ++i) want.push_back(Name(i) + ".start");
        }
        for (std::size_t i = bound; i-- > 0;) want.push_back(Name(i) + ".stop");
        EXPECT_EQ(ev, want);
        // Later calls return the error and call nothing.
        const std::size_t calls = ev.size();
        EXPECT_EQ(list.Bind(), st);
        EXPECT_EQ(list.Start(), st);
        list.Reload(ReloadCause::kSignal);
        list.Stop();
        EXPECT_EQ(ev.size(), calls);
      }
    }
  }
}

TEST(ServiceList, StopBeforeBindStopsNothingAndDestructorStops) {
  Events ev;
  {
    ServiceList list;
    list.Add(std::make_unique<Fake>("a", &ev));
    list.Stop();
    EXPECT_FALSE(list.Bind().ok());
  }
  EXPECT_TRUE(ev.empty());
  {
    ServiceList list;
    list.Add(std::make_unique<Fake>("a", &ev));
    list.Add(std::make_unique<Fake>("b", &ev));
    ASSERT_TRUE(list.Bind().ok());  // bound, never started: still stopped
  }
  EXPECT_EQ(ev, (Events{"a.bind", "b.bind", "b.stop", "a.stop"}));
}

}  // namespace
}  // namespace meshbl::daemon
