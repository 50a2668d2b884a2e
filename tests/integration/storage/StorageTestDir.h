// StorageTestDir.h - a temporary directory per test and a log channel that records messages.
#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>

#include <mutex>
#include <string>
#include <vector>

namespace dnsproxy::test
{

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
class StorageTestDir
{
public:
	StorageTestDir():
		_path(Poco::TemporaryFile::tempName())
	{
		Poco::File(_path).createDirectories();
	}

	~StorageTestDir()
	{
		try
		{
			Poco::File(_path).remove(true);
		}
		catch (const Poco::Exception&)
		{
			// a test that made the directory unreadable restores it itself; nothing else to do here
		}
	}

	std::string file(const std::string& name) const
	{
		return Poco::Path(_path, name).toString();
	}

	const std::string& path() const
	{
		return _path;
	}

private:
	std::string _path;
};

/// Records every message of one logger while it is installed; restores the logger on destruction.
class RecordingChannel: public Poco::Channel
{
public:
	void log(const Poco::Message& msg) override
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_messages.push_back(msg);
	}

	std::vector<Poco::Message> messages(Poco::Message::Priority priority) const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		std::vector<Poco::Message> result;
		for (const auto& m : _messages)
			if (m.getPriority() == priority)
				result.push_back(m);
		return result;
	}

private:
	mutable std::mutex _mutex;
	std::vector<Poco::Message> _messages;
};

class LogCapture
{
public:
	explicit LogCapture(const std::string& loggerName):
		_logger(Poco::Logger::get(loggerName)),
		_previousChannel(_logger.getChannel()),
		_previousLevel(_logger.getLevel()),
		_channel(new RecordingChannel) // AutoPtr adopts the new channel
	{
		_logger.setChannel(_channel);
		_logger.setLevel(Poco::Message::PRIO_INFORMATION);
	}

	~LogCapture()
	{
		_logger.setChannel(_previousChannel);
		_logger.setLevel(_previousLevel);
	}

	size_t warnings() const
	{
		return _channel->messages(Poco::Message::PRIO_WARNING).size();
	}

	std::string firstWarning() const
	{
		auto list = _channel->messages(Poco::Message::PRIO_WARNING);
		return list.empty() ? std::string() : list.front().getText();
	}

private:
	Poco::Logger& _logger;
	Poco::Channel::Ptr _previousChannel;
	int _previousLevel;
	Poco::AutoPtr<RecordingChannel> _channel;
};

} // namespace dnsproxy::test
