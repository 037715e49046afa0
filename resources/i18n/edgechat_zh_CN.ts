<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name></name>
    <message>
        <source>API server</source>
        <translation>API 服务器</translation>
    </message>
    <message>
        <source>Serve the loaded model to other apps</source>
        <translation>向其他应用提供已加载的模型</translation>
    </message>
    <message>
        <source>Allow other computers on the network (needs an API key)</source>
        <translation>允许网络中的其他电脑连接（需要 API 密钥）</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>No key needed: only apps on this computer can connect (web pages cannot)</source>
        <translation>无需密钥：只有这台电脑上的应用可以连接（网页不能）</translation>
    </message>
    <message>
        <source>New key</source>
        <translation>新密钥</translation>
    </message>
    <message>
        <source>Requests appear here as other apps send them.</source>
        <translation>其他应用发送的请求会显示在这里。</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <source>Address:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API 密钥：</translation>
    </message>
    <message>
        <source>Requests:</source>
        <translation>请求：</translation>
    </message>
    <message>
        <source>This key is shown only now: copy it into the app that connects. It is kept in the OS keyring.</source>
        <translation>此密钥只显示这一次：请将它复制到要连接的应用中。密钥保存在系统密钥环中。</translation>
    </message>
    <message>
        <source>No OS keyring is available: this key lasts until EdgeChat closes. Copy it now.</source>
        <translation>没有可用的系统密钥环：此密钥在 EdgeChat 关闭前有效。请立即复制。</translation>
    </message>
    <message>
        <source>The key in the OS keyring (shown when it was made; New key makes another)</source>
        <translation>系统密钥环中的密钥（仅在生成时显示；点击“新密钥”可再生成一个）</translation>
    </message>
    <message>
        <source>Copied.</source>
        <translation>已复制。</translation>
    </message>
    <message>
        <source>Off. Other apps can use the loaded model through the OpenAI API once this is on.</source>
        <translation>已关闭。开启后，其他应用可通过 OpenAI API 使用已加载的模型。</translation>
    </message>
    <message>
        <source>no model loaded yet</source>
        <translation>尚未加载模型</translation>
    </message>
    <message>
        <source>Serving {model}. Set the app&apos;s base URL to the address above.</source>
        <translation>正在提供 {model}。请将应用的 Base URL 设为上方的地址。</translation>
    </message>
    <message>
        <source>{p}+{c} tokens</source>
        <translation>{p}+{c} 个 token</translation>
    </message>
    <message>
        <source>stream</source>
        <translation>流式</translation>
    </message>
</context>
<context>
    <name>AboutDialog</name>
    <message>
        <source>About {app}</source>
        <translation>关于 {app}</translation>
    </message>
    <message>
        <source>Offline chat with small local language models. Everything runs on this computer.</source>
        <translation>使用本地小型语言模型离线对话。一切都在这台电脑上运行。</translation>
    </message>
    <message>
        <source>Licensed under the Apache License 2.0.</source>
        <translation>基于 Apache License 2.0 许可发布。</translation>
    </message>
</context>
<context>
    <name>BannerRow</name>
    <message>
        <source>Close this message</source>
        <translation>关闭此消息</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>{count} tokens</source>
        <translation>{count} 个 token</translation>
    </message>
    <message>
        <source>{rate} tok/s</source>
        <translation>{rate} token/s</translation>
    </message>
    <message>
        <source>first token {seconds} s</source>
        <translation>首个 token {seconds} 秒</translation>
    </message>
    <message>
        <source>{reused} of {total} prompt tokens reused</source>
        <translation>已复用 {total} 个提示词 token 中的 {reused} 个</translation>
    </message>
    <message>
        <source>{model} on {engine} ({device})</source>
        <translation>{model}，运行于 {engine}（{device}）</translation>
    </message>
    <message>
        <source>{count} earlier messages left out to fit the context</source>
        <translation>为适应上下文，已省略 {count} 条较早的消息</translation>
    </message>
</context>
<context>
    <name>ChatSettings</name>
    <message>
        <source>No system prompt</source>
        <translation>无系统提示词</translation>
    </message>
    <message>
        <source>Helpful assistant</source>
        <translation>通用助手</translation>
    </message>
    <message>
        <source>You are a helpful, accurate assistant. Answer clearly, and say so when you are not sure.</source>
        <translation>你是一个乐于助人、严谨准确的助手。请清晰地回答，不确定时如实说明。</translation>
    </message>
    <message>
        <source>Concise</source>
        <translation>简洁</translation>
    </message>
    <message>
        <source>Answer in as few words as possible, without preamble.</source>
        <translation>用尽可能少的文字回答，不要开场白。</translation>
    </message>
    <message>
        <source>Coding helper</source>
        <translation>编程助手</translation>
    </message>
    <message>
        <source>You are an expert programmer. Give working code in fenced blocks that name the language, then explain briefly.</source>
        <translation>你是一名资深程序员。请在标明语言的代码块中给出可运行的代码，然后简要解释。</translation>
    </message>
    <message>
        <source>Translator (English ↔ Chinese)</source>
        <translation>翻译（英文 ↔ 中文）</translation>
    </message>
    <message>
        <source>Translate the user&apos;s text between English and Chinese. Reply with the translation only.</source>
        <translation>将用户的文本在英文和中文之间互译。只回复译文。</translation>
    </message>
    <message>
        <source>Leave out the oldest messages</source>
        <translation>省略最早的消息</translation>
    </message>
    <message>
        <source>Keep the first turn, leave out the middle</source>
        <translation>保留第一轮，省略中间部分</translation>
    </message>
    <message>
        <source>Stop and ask me</source>
        <translation>停下来问我</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation>Min-p</translation>
    </message>
    <message>
        <source>Repeat penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>最大 token 数</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Save as preset…</source>
        <translation>另存为预设…</translation>
    </message>
    <message>
        <source>Delete preset</source>
        <translation>删除预设</translation>
    </message>
    <message>
        <source>Instructions the model reads before the chat</source>
        <translation>模型在对话开始前读取的指令</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>This model has no system role; your system prompt is sent with your first message.</source>
        <translation>此模型没有系统角色；你的系统提示词将随你的第一条消息一起发送。</translation>
    </message>
    <message>
        <source>Think before answering</source>
        <translation>回答前先思考</translation>
    </message>
    <message>
        <source>The model reasons first, then answers: slower, often better on hard questions</source>
        <translation>模型先推理再回答：较慢，但难题上往往更好</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Reset to the model&apos;s defaults</source>
        <translation>恢复为模型默认值</translation>
    </message>
    <message>
        <source>This chat&apos;s settings</source>
        <translation>本对话的设置</translation>
    </message>
    <message>
        <source>When the chat outgrows the context</source>
        <translation>对话超出上下文长度时</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <source>The model recommends: {values}.</source>
        <translation>模型推荐：{values}。</translation>
    </message>
    <message>
        <source>The model recommends no sampling settings; EdgeChat&apos;s defaults apply.</source>
        <translation>模型未推荐采样设置，将使用 EdgeChat 的默认值。</translation>
    </message>
    <message>
        <source>Save preset</source>
        <translation>保存预设</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>⋯ {count} messages above were left out of the model&apos;s context ⋯</source>
        <translation>⋯ 以上 {count} 条消息未纳入模型的上下文 ⋯</translation>
    </message>
    <message>
        <source>⋯ 1 message above was left out of the model&apos;s context ⋯</source>
        <translation>⋯ 以上 1 条消息未纳入模型的上下文 ⋯</translation>
    </message>
    <message>
        <source>Ask anything. Everything runs on this computer, offline.</source>
        <translation>尽管提问。一切都在这台电脑上离线运行。</translation>
    </message>
</context>
<context>
    <name>Cli</name>
    <message>
        <source>stopped (Ctrl+C).</source>
        <translation>已停止（Ctrl+C）。</translation>
    </message>
</context>
<context>
    <name>ContextMeter</name>
    <message>
        <source>Context length…</source>
        <translation>上下文长度…</translation>
    </message>
    <message>
        <source>Model ▸ Load settings… ▸ Context length</source>
        <translation>模型 ▸ 加载设置… ▸ 上下文长度</translation>
    </message>
    <message>
        <source>Models for longer texts…</source>
        <translation>适合更长文本的模型…</translation>
    </message>
    <message>
        <source>The library: each model says how long a text it reads</source>
        <translation>模型库：每个模型都注明它能读取多长的文本</translation>
    </message>
    <message>
        <source>Context: no model loaded</source>
        <translation>上下文：未加载模型</translation>
    </message>
    <message>
        <source>{used} / {size} tokens</source>
        <translation>{used} / {size} 个 token</translation>
    </message>
    <message>
        <source>too long: you will be asked what to leave out</source>
        <translation>过长：将询问你要省略哪些内容</translation>
    </message>
    <message>
        <source>too long even on its own: shorten the message</source>
        <translation>单条消息就已过长：请缩短消息</translation>
    </message>
    <message>
        <source>{count} earlier messages will be left out</source>
        <translation>将省略 {count} 条较早的消息</translation>
    </message>
    <message>
        <source>Estimated at about four characters per token: the server counts for itself.</source>
        <translation>按每个 token 约四个字符估算：实际数量由服务器自行统计。</translation>
    </message>
    <message>
        <source>Counted with the model&apos;s own tokenizer.</source>
        <translation>使用模型自身的分词器统计。</translation>
    </message>
    <message>
        <source>System prompt: {system} · Chat: {history} · Your message: {draft}
Kept free for the reply: {reserve} · Context length: {size}</source>
        <translation>系统提示词：{system} · 对话：{history} · 你的消息：{draft}
为回复预留：{reserve} · 上下文长度：{size}</translation>
    </message>
    <message>
        <source>Not sent: with the system prompt this message needs {need} tokens, and the model&apos;s context has room for {limit} (the rest is kept for the reply). Shorten it, raise Context length in the model&apos;s load settings, or use a model made for longer texts.</source>
        <translation>未发送：加上系统提示词，这条消息需要 {need} 个 token，而模型的上下文只能容纳 {limit} 个（其余留给回复）。请缩短消息、在模型的加载设置中调高“上下文长度”，或改用适合更长文本的模型。</translation>
    </message>
    <message>
        <source>Not sent: with the system prompt this message needs {need} tokens, and this model reads at most {trained}, {limit} of them for the prompt (the rest is kept for the reply). Shorten the message, shorten the system prompt or the reply in Chat settings, or use a model made for longer texts.</source>
        <translation>未发送：加上系统提示词，这条消息需要 {need} 个 token，而此模型最多读取 {trained} 个，其中 {limit} 个用于提示（其余留给回复）。请缩短消息、在聊天设置中缩短系统提示词或回复长度，或改用适合更长文本的模型。</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>昨天</translation>
    </message>
    <message>
        <source>Previous 7 days</source>
        <translation>过去 7 天</translation>
    </message>
    <message>
        <source>Older</source>
        <translation>更早</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
</context>
<context>
    <name>ConversationListView</name>
    <message>
        <source>Chats</source>
        <translation>对话</translation>
    </message>
</context>
<context>
    <name>Core</name>
    <message>
        <source>Model ▸ Load settings… ▸ Context length</source>
        <translation>模型 ▸ 加载设置… ▸ 上下文长度</translation>
    </message>
    <message>
        <source>This chat no longer fits the model&apos;s context ({needed} tokens; {limit} are free for the prompt). Choose what to leave out, or start a new chat.</source>
        <translation>此对话已超出模型的上下文长度（需要 {needed} 个 token，而提示词只有 {limit} 个可用）。请选择要省略的内容，或开始新对话。</translation>
    </message>
    <message>
        <source>The message is too long for this model&apos;s context window. Shorten it, or raise the context length ({setting}).</source>
        <translation>这条消息超出了此模型的上下文窗口。请缩短消息，或调高上下文长度（{setting}）。</translation>
    </message>
    <message>
        <source>The message is too long for this model&apos;s context ({used} tokens of {size}). Shorten it, start a new chat, or raise the context length ({setting}).</source>
        <translation>这条消息超出了此模型的上下文（{used} / {size} 个 token）。请缩短消息、开始新对话，或调高上下文长度（{setting}）。</translation>
    </message>
    <message>
        <source>{name} is truncated or damaged: the file ends inside its header ({size} bytes). Download it again.</source>
        <translation>{name} 不完整或已损坏：文件在文件头内就结束了（{size} 字节）。请重新下载。</translation>
    </message>
    <message>
        <source>{name} is corrupt: {field} is implausibly large ({count}).</source>
        <translation>{name} 已损坏：{field} 大得不合理（{count}）。</translation>
    </message>
    <message>
        <source>{name} is corrupt: a metadata key is not valid UTF-8 text.</source>
        <translation>{name} 已损坏：某个元数据键不是有效的 UTF-8 文本。</translation>
    </message>
    <message>
        <source>{name} is corrupt: the arrays of {key} are nested more than {depth} deep.</source>
        <translation>{name} 已损坏：{key} 的数组嵌套超过 {depth} 层。</translation>
    </message>
    <message>
        <source>{name} is corrupt: unknown value type {type} for {key}.</source>
        <translation>{name} 已损坏：{key} 的值类型 {type} 未知。</translation>
    </message>
    <message>
        <source>Model file not found: {path}</source>
        <translation>找不到模型文件：{path}</translation>
    </message>
    <message>
        <source>{path} is a folder, not a GGUF model file.</source>
        <translation>{path} 是文件夹，不是 GGUF 模型文件。</translation>
    </message>
    <message>
        <source>Cannot read {name}: {reason}</source>
        <translation>无法读取 {name}：{reason}</translation>
    </message>
    <message>
        <source>{name} is not a GGUF model file (only {size} bytes).</source>
        <translation>{name} 不是 GGUF 模型文件（仅 {size} 字节）。</translation>
    </message>
    <message>
        <source>{name} is corrupt: its header cannot be read ({reason}).</source>
        <translation>{name} 已损坏：无法读取其文件头（{reason}）。</translation>
    </message>
    <message>
        <source>{name} is not a GGUF model file. EdgeChat&apos;s llama.cpp engine opens .gguf files; ONNX models are opened by their folder.</source>
        <translation>{name} 不是 GGUF 模型文件。EdgeChat 的 llama.cpp 引擎只能打开 .gguf 文件；ONNX 模型请通过其所在文件夹打开。</translation>
    </message>
    <message>
        <source>{name} uses GGUF version {version}, which this version of EdgeChat cannot read.</source>
        <translation>{name} 使用的是 GGUF 版本 {version}，当前版本的 EdgeChat 无法读取。</translation>
    </message>
    <message>
        <source>{name} is corrupt: a tensor has {count} dimensions.</source>
        <translation>{name} 已损坏：某个张量有 {count} 个维度。</translation>
    </message>
    <message>
        <source>{name} is truncated: it has {size} bytes but its tensors need {needed}. The download was probably interrupted; download it again.</source>
        <translation>{name} 不完整：文件只有 {size} 字节，但其张量需要 {needed} 字节。可能是下载中断了，请重新下载。</translation>
    </message>
    <message>
        <source>{name} is corrupt: {key} should be text, but it is {value}.</source>
        <translation>{name} 已损坏：{key} 应为文本，但实际为 {value}。</translation>
    </message>
    <message>
        <source>{name} is corrupt: {key} should be a count (a whole number, 0 or more), but it is {value}.</source>
        <translation>{name} 已损坏：{key} 应为计数（0 或更大的整数），但实际为 {value}。</translation>
    </message>
    <message>
        <source>{name} is corrupt: {key} should be a power of two, but it is {value}.</source>
        <translation>{name} 已损坏：{key} 应为 2 的幂，但实际为 {value}。</translation>
    </message>
    <message>
        <source>Unknown KV-cache type {kv_type}: use one of {choices}.</source>
        <translation>未知的 KV 缓存类型 {kv_type}：请使用以下类型之一：{choices}。</translation>
    </message>
    <message>
        <source>The llama.cpp engine is not available: {reason}</source>
        <translation>llama.cpp 引擎不可用：{reason}</translation>
    </message>
    <message>
        <source>this llama.cpp build has no GPU support; using the CPU</source>
        <translation>此 llama.cpp 版本不支持 GPU，改用 CPU</translation>
    </message>
    <message>
        <source>llama.cpp does not use DirectML; using its own GPU support</source>
        <translation>llama.cpp 不使用 DirectML，改用其自身的 GPU 支持</translation>
    </message>
    <message>
        <source>llama.cpp could not load {name}: {reason}. The file may be damaged or use an architecture this version does not support.</source>
        <translation>llama.cpp 无法加载 {name}：{reason}。文件可能已损坏，或使用了此版本不支持的模型架构。</translation>
    </message>
    <message>
        <source>llama.cpp failed while generating: {reason}</source>
        <translation>llama.cpp 生成时出错：{reason}</translation>
    </message>
    <message>
        <source>{folder}/{config_file} names {what} outside the folder: {name}</source>
        <translation>{folder}/{config_file} 引用了文件夹之外的 {what}：{name}</translation>
    </message>
    <message>
        <source>Model folder not found: {folder}</source>
        <translation>找不到模型文件夹：{folder}</translation>
    </message>
    <message>
        <source>{folder} is not an ONNX model folder.</source>
        <translation>{folder} 不是 ONNX 模型文件夹。</translation>
    </message>
    <message>
        <source>{folder} is not an ONNX GenAI model folder: {config_file} is missing. Open the folder that holds {config_file} (for multi-variant repositories, a subfolder such as cpu-int4-…).</source>
        <translation>{folder} 不是 ONNX GenAI 模型文件夹：缺少 {config_file}。请打开包含 {config_file} 的文件夹（对于含多个变体的仓库，请打开相应的子文件夹，例如 cpu-int4-…）。</translation>
    </message>
    <message>
        <source>{folder}/{config_file} is damaged: {reason}</source>
        <translation>{folder}/{config_file} 已损坏：{reason}</translation>
    </message>
    <message>
        <source>{folder}/{config_file} has no model.decoder section.</source>
        <translation>{folder}/{config_file} 中没有 model.decoder 部分。</translation>
    </message>
    <message>
        <source>{folder}/{config_file} does not name the decoder&apos;s .onnx file.</source>
        <translation>{folder}/{config_file} 未指定解码器的 .onnx 文件。</translation>
    </message>
    <message>
        <source>a model file</source>
        <translation>模型文件</translation>
    </message>
    <message>
        <source>{folder} is incomplete: {name} is missing.</source>
        <translation>{folder} 不完整：缺少 {name}。</translation>
    </message>
    <message>
        <source>{folder}/{name} is empty or damaged.</source>
        <translation>{folder}/{name} 为空或已损坏。</translation>
    </message>
    <message>
        <source>weights</source>
        <translation>权重文件</translation>
    </message>
    <message>
        <source>{folder} is incomplete: {data} (the weights of {name}) is missing.</source>
        <translation>{folder} 不完整：缺少 {data}（{name} 的权重）。</translation>
    </message>
    <message>
        <source>{folder}/{data} is truncated: it has {size} bytes but {name} needs {needed}. Download it again.</source>
        <translation>{folder}/{data} 不完整：文件只有 {size} 字节，但 {name} 需要 {needed} 字节。请重新下载。</translation>
    </message>
    <message>
        <source>{folder} has no tokenizer: tokenizer.json is missing.</source>
        <translation>{folder} 中没有分词器：缺少 tokenizer.json。</translation>
    </message>
    <message>
        <source>Unknown device {requested}: use one of {choices}.</source>
        <translation>未知设备 {requested}：请使用以下设备之一：{choices}。</translation>
    </message>
    <message>
        <source>this model folder is built for {device}, which this build of onnxruntime-genai cannot use here; running it on the CPU</source>
        <translation>此模型文件夹是为 {device} 构建的，当前的 onnxruntime-genai 版本无法在本机使用它，改为在 CPU 上运行</translation>
    </message>
    <message>
        <source>install onnxruntime-genai-cuda and an NVIDIA driver</source>
        <translation>需要安装 onnxruntime-genai-cuda 和 NVIDIA 驱动程序</translation>
    </message>
    <message>
        <source>DirectML needs Windows and the onnxruntime-genai-directml build</source>
        <translation>DirectML 需要 Windows 和 onnxruntime-genai-directml 版本</translation>
    </message>
    <message>
        <source>{device} is not available ({hint}); using the CPU</source>
        <translation>{device} 不可用（{hint}），改用 CPU</translation>
    </message>
    <message>
        <source>The ONNX Runtime GenAI engine is not available: {reason}</source>
        <translation>ONNX Runtime GenAI 引擎不可用：{reason}</translation>
    </message>
    <message>
        <source>{device} could not load the model ({reason}); using the CPU</source>
        <translation>{device} 无法加载模型（{reason}），改用 CPU</translation>
    </message>
    <message>
        <source>The tokenizer of {folder} (tokenizer.json) failed to load: {reason}</source>
        <translation>无法加载 {folder} 的分词器（tokenizer.json）：{reason}</translation>
    </message>
    <message>
        <source>ONNX Runtime failed on the prompt: {reason}</source>
        <translation>ONNX Runtime 处理提示词时出错：{reason}</translation>
    </message>
    <message>
        <source>{folder}/{name} is damaged: it is not a valid ONNX file. Download it again.</source>
        <translation>{folder}/{name} 已损坏：不是有效的 ONNX 文件。请重新下载。</translation>
    </message>
    <message>
        <source>ONNX Runtime could not load {folder}: {reason}</source>
        <translation>ONNX Runtime 无法加载 {folder}：{reason}</translation>
    </message>
    <message>
        <source>The server stopped sending; paused — resume when the connection is back. What arrived is kept.</source>
        <translation>服务器停止发送数据，已暂停——连接恢复后可继续。已收到的部分会保留。</translation>
    </message>
    <message>
        <source>Refusing a file path from the Hub that leaves the model folder: {path}</source>
        <translation>已拒绝 Hub 提供的文件路径，因为它指向模型文件夹之外：{path}</translation>
    </message>
    <message>
        <source>{repo_id} is not a repository id (owner/name).</source>
        <translation>{repo_id} 不是有效的仓库 ID（格式应为 owner/name）。</translation>
    </message>
    <message>
        <source>{repo_id} has no file {filename}.</source>
        <translation>{repo_id} 中没有文件 {filename}。</translation>
    </message>
    <message>
        <source>{folder} is not an ONNX GenAI folder (no genai_config.json). Folders with one: {folders}.</source>
        <translation>{folder} 不是 ONNX GenAI 文件夹（没有 genai_config.json）。包含该文件的文件夹：{folders}。</translation>
    </message>
    <message>
        <source>Enter the server&apos;s address, for example http://192.168.1.20:8000/v1.</source>
        <translation>请输入服务器地址，例如 http://192.168.1.20:8000/v1。</translation>
    </message>
    <message>
        <source>{url} is not a server address: use http://host:port/v1 (or https://).</source>
        <translation>{url} 不是服务器地址：请使用 http://host:port/v1（或 https://）。</translation>
    </message>
    <message>
        <source>Leave the user name and password out of the address: put the key in the API key field, which is kept in the OS keyring.</source>
        <translation>地址中不要包含用户名和密码：请将密钥填入“API 密钥”字段，它会保存在系统密钥环中。</translation>
    </message>
    <message>
        <source>{url} has a port that is not a number.</source>
        <translation>{url} 中的端口不是数字。</translation>
    </message>
    <message>
        <source>{id} is not a remote model.</source>
        <translation>{id} 不是远程模型。</translation>
    </message>
    <message>
        <source>{id} names no server and model.</source>
        <translation>{id} 未指定服务器和模型。</translation>
    </message>
    <message>
        <source>Remote servers need the &apos;openai&apos; package: {reason}</source>
        <translation>连接远程服务器需要“openai”软件包：{reason}</translation>
    </message>
    <message>
        <source>The server at {where} did not answer for {seconds} s. It may be overloaded, or reading a long prompt: try again, or raise the waiting time.</source>
        <translation>位于 {where} 的服务器 {seconds} 秒内没有响应。它可能负载过高，或正在读取很长的提示词：请重试，或延长等待时间。</translation>
    </message>
    <message>
        <source>the connection failed</source>
        <translation>连接失败</translation>
    </message>
    <message>
        <source>Could not connect to {url}: {reason}. Is the server running, and is the address right?</source>
        <translation>无法连接到 {url}：{reason}。服务器是否在运行，地址是否正确？</translation>
    </message>
    <message>
        <source>The server at {where} refused the API key ({status}): check the key in &quot;Connect to a server…&quot;. The server said: {detail}</source>
        <translation>位于 {where} 的服务器拒绝了 API 密钥（{status}）：请在“连接到服务器…”中检查密钥。服务器返回：{detail}</translation>
    </message>
    <message>
        <source>The server at {where} no longer offers the model {model}. Choose another of its models in &quot;Connect to a server…&quot;.</source>
        <translation>位于 {where} 的服务器已不再提供模型 {model}。请在“连接到服务器…”中选择它的其他模型。</translation>
    </message>
    <message>
        <source>The server at {where} does not answer OpenAI requests at this address (404): check that the address ends in /v1.</source>
        <translation>位于 {where} 的服务器在此地址不响应 OpenAI 请求（404）：请检查地址是否以 /v1 结尾。</translation>
    </message>
    <message>
        <source>The chat is too long for the model&apos;s context on the server at {where}: start a new chat, or leave out older messages. The server said: {detail}</source>
        <translation>对话超出了位于 {where} 的服务器上模型的上下文长度：请开始新对话，或省略较早的消息。服务器返回：{detail}</translation>
    </message>
    <message>
        <source>The server at {where} is busy ({status}): try again in a moment. The server said: {detail}</source>
        <translation>位于 {where} 的服务器正忙（{status}）：请稍后重试。服务器返回：{detail}</translation>
    </message>
    <message>
        <source>The server at {where} failed ({status}): {detail}</source>
        <translation>位于 {where} 的服务器出错（{status}）：{detail}</translation>
    </message>
    <message>
        <source>The server at {where} refused the request ({status}): {detail}</source>
        <translation>位于 {where} 的服务器拒绝了请求（{status}）：{detail}</translation>
    </message>
    <message>
        <source>The server at {where} sent something unexpected: {detail}</source>
        <translation>位于 {where} 的服务器返回了意外的内容：{detail}</translation>
    </message>
    <message>
        <source>The server at {where} failed: {detail}</source>
        <translation>位于 {where} 的服务器出错：{detail}</translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>未说明原因</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>The server at {where} does not offer the model {model} (it offers: {offered}).</source>
        <translation>位于 {where} 的服务器不提供模型 {model}（它提供的是：{offered}）。</translation>
    </message>
    <message>
        <source>The server at {where} ended the reply without sending anything.</source>
        <translation>位于 {where} 的服务器未发送任何内容就结束了回复。</translation>
    </message>
    <message>
        <source>the server ended it without saying it was done</source>
        <translation>服务器结束了回复，但未表明已完成</translation>
    </message>
    <message>
        <source>the server stopped sending for {seconds} s</source>
        <translation>服务器已有 {seconds} 秒未发送数据</translation>
    </message>
    <message>
        <source>the connection was lost</source>
        <translation>连接已断开</translation>
    </message>
    <message>
        <source>the server reported an error: {detail}</source>
        <translation>服务器报告了错误：{detail}</translation>
    </message>
    <message>
        <source>The reply was cut off: {reason} (server at {where}). The text above is what arrived.</source>
        <translation>回复被中断：{reason}（服务器：{where}）。上方文本是已收到的内容。</translation>
    </message>
    <message>
        <source>The server applies the model&apos;s chat template; EdgeChat sends the messages as they are.</source>
        <translation>聊天模板由服务器应用；EdgeChat 按原样发送消息。</translation>
    </message>
    <message>
        <source>The Hub gives no checksum for {file}; it cannot be verified.</source>
        <translation>Hub 未提供 {file} 的校验和，无法校验。</translation>
    </message>
    <message>
        <source>Not enough disk space for {name}: it needs {needed} more and {free} is free in {folder} (keeping {spare} spare). Free some space or choose a smaller model.</source>
        <translation>磁盘空间不足，无法下载 {name}：还需要 {needed}，而 {folder} 中只有 {free} 可用（需预留 {spare}）。请释放一些空间，或选择更小的模型。</translation>
    </message>
    <message>
        <source>The disk filled up while downloading {name}. What arrived is kept; free some space and resume.</source>
        <translation>下载 {name} 时磁盘已满。已下载的部分会保留；请释放一些空间后继续。</translation>
    </message>
    <message>
        <source>Connection problem ({reason}); retrying in {seconds} s…</source>
        <translation>连接出现问题（{reason}），{seconds} 秒后重试…</translation>
    </message>
    <message>
        <source>Verifying {name}…</source>
        <translation>正在校验 {name}…</translation>
    </message>
    <message>
        <source>{name} failed verification: the Hub says {kind} {expected}…, the downloaded file has {actual}…. It was not installed; the bad file is kept at {path}. Download it again.</source>
        <translation>{name} 校验失败：Hub 给出的 {kind} 为 {expected}…，而下载的文件为 {actual}…。该文件未安装，有问题的文件保留在 {path}。请重新下载。</translation>
    </message>
    <message>
        <source>The list of paused downloads</source>
        <translation>已暂停的下载列表</translation>
    </message>
    <message>
        <source>runs on GPU</source>
        <translation>可在 GPU 上运行</translation>
    </message>
    <message>
        <source>runs on CPU</source>
        <translation>可在 CPU 上运行</translation>
    </message>
    <message>
        <source>tight</source>
        <translation>内存紧张</translation>
    </message>
    <message>
        <source>won&apos;t fit</source>
        <translation>无法运行</translation>
    </message>
    <message>
        <source>{size} context at {tokens} tokens</source>
        <translation>{tokens} token 上下文 {size}</translation>
    </message>
    <message>
        <source> (estimated)</source>
        <translation>（估算）</translation>
    </message>
    <message>
        <source>Needs about {total} ({weights} weights + {context} + {runtime} runtime)</source>
        <translation>约需 {total}（权重 {weights} + {context} + 运行时 {runtime}）</translation>
    </message>
    <message>
        <source>{size} free for the GPU on {gpu}</source>
        <translation>{gpu} 上可供 GPU 使用 {size}</translation>
    </message>
    <message>
        <source>{size} VRAM on {gpu}</source>
        <translation>{gpu} 有 {size} VRAM</translation>
    </message>
    <message>
        <source>{size} free on {gpu}</source>
        <translation>{gpu} 上可用 {size}</translation>
    </message>
    <message>
        <source>{size} available</source>
        <translation>可用 {size}</translation>
    </message>
    <message>
        <source> of {size} RAM</source>
        <translation>（共 {size} RAM）</translation>
    </message>
    <message>
        <source>{needs}; {have}</source>
        <translation>{needs}；{have}</translation>
    </message>
    <message>
        <source>{text} — {note}</source>
        <translation>{text} — {note}</translation>
    </message>
    <message>
        <source>too big for the {size} on {gpu}</source>
        <translation>超出 {gpu} 的 {size}</translation>
    </message>
    <message>
        <source>tight: little room left for other programs</source>
        <translation>内存紧张：留给其他程序的内存所剩无几</translation>
    </message>
    <message>
        <source>tight: other programs would be swapped out to make room</source>
        <translation>内存紧张：需要把其他程序换出到交换空间才能腾出内存</translation>
    </message>
    <message>
        <source>won&apos;t fit: needs more memory than this machine can give</source>
        <translation>无法运行：所需内存超出本机所能提供的容量</translation>
    </message>
    <message>
        <source>{note}; {more}</source>
        <translation>{note}；{more}</translation>
    </message>
    <message>
        <source>built for {provider}, which this machine cannot use</source>
        <translation>为 {provider} 构建，本机无法使用</translation>
    </message>
    <message>
        <source>needs DirectML</source>
        <translation>需要 DirectML</translation>
    </message>
    <message>
        <source>needs CUDA</source>
        <translation>需要 CUDA</translation>
    </message>
    <message>
        <source>not usable here</source>
        <translation>本机无法使用</translation>
    </message>
    <message>
        <source>the Hugging Face Hub (search, model details and downloads)</source>
        <translation>Hugging Face Hub（搜索、模型详情和下载）</translation>
    </message>
    <message>
        <source>the model page ({url})</source>
        <translation>模型页面（{url}）</translation>
    </message>
    <message>
        <source>{repo} is gated and your account has no access yet: accept the licence on {page} with the account your token belongs to, then try again.</source>
        <translation>{repo} 访问受限，你的账号尚未获得访问权限：请用该访问令牌所属的账号在{page}上接受许可协议，然后重试。</translation>
    </message>
    <message>
        <source>{repo} is gated: accept the licence on {page}, then add a Hugging Face access token in Settings.</source>
        <translation>{repo} 访问受限：请在{page}上接受许可协议，然后在“设置”中添加 Hugging Face 访问令牌。</translation>
    </message>
    <message>
        <source>The Hugging Face token was refused (401): it is invalid or has expired. Create a new one at https://huggingface.co/settings/tokens and set it in Settings.</source>
        <translation>Hugging Face 访问令牌被拒绝（401）：令牌无效或已过期。请在 https://huggingface.co/settings/tokens 创建新令牌，并在“设置”中填写。</translation>
    </message>
    <message>
        <source>Repository {repo} was not found.</source>
        <translation>找不到仓库 {repo}。</translation>
    </message>
    <message>
        <source>Repository {repo} was not found. If it is private, add an access token in Settings.</source>
        <translation>找不到仓库 {repo}。如果它是私有仓库，请在“设置”中添加访问令牌。</translation>
    </message>
    <message>
        <source>{repo} needs a Hugging Face access token: add one in Settings.</source>
        <translation>{repo} 需要 Hugging Face 访问令牌：请在“设置”中添加。</translation>
    </message>
    <message>
        <source>Access to {repo} is forbidden (403) for this token: accept the licence on {page}, or use a token with read access.</source>
        <translation>此访问令牌无权访问 {repo}（403）：请在{page}上接受许可协议，或使用具有读取权限的令牌。</translation>
    </message>
    <message>
        <source>The Hub answered with an error for {repo}: {reason}</source>
        <translation>访问 {repo} 时 Hub 返回了错误：{reason}</translation>
    </message>
    <message>
        <source>Offline mode is on (HF_HUB_OFFLINE): EdgeChat cannot reach the Hub.</source>
        <translation>已开启离线模式（HF_HUB_OFFLINE）：EdgeChat 无法连接 Hub。</translation>
    </message>
    <message>
        <source>Cannot reach the Hugging Face Hub ({reason}). Check the connection and try again; downloads resume where they stopped.</source>
        <translation>无法连接 Hugging Face Hub（{reason}）。请检查网络连接后重试；下载会从中断处继续。</translation>
    </message>
    <message>
        <source>Searching the Hub needs an internet connection, and the Hub did not answer ({reason}). Check the connection and try again; installed models work offline.</source>
        <translation>搜索 Hub 需要联网，但 Hub 没有响应（{reason}）。请检查网络后重试；已安装的模型可离线使用。</translation>
    </message>
    <message>
        <source>{what} is being changed by another EdgeChat window or command and did not become free within {seconds} s ({path}). Try again.</source>
        <translation>{what} 正被另一个 EdgeChat 窗口或命令修改，{seconds} 秒内未释放（{path}）。请重试。</translation>
    </message>
    <message>
        <source>Nothing to import at {path}: it does not exist.</source>
        <translation>{path} 不存在，无可导入的内容。</translation>
    </message>
    <message>
        <source>The model list</source>
        <translation>模型列表</translation>
    </message>
    <message>
        <source>No installed model is called {model_id}.</source>
        <translation>没有名为 {model_id} 的已安装模型。</translation>
    </message>
    <message>
        <source>No OS keyring is available, so EdgeChat will not store a token (it never writes tokens in plain text). On Linux, install and unlock a Secret Service keyring (GNOME Keyring: &apos;gnome-keyring&apos; with &apos;libsecret&apos;, or KWallet) and sign in again; Windows Credential Manager and the macOS Keychain work out of the box.</source>
        <translation>没有可用的系统密钥环，因此 EdgeChat 不会保存令牌（它从不以明文形式写入令牌）。在 Linux 上，请安装并解锁 Secret Service 密钥环（GNOME Keyring：安装 gnome-keyring 和 libsecret；或使用 KWallet），然后重新登录；Windows 凭据管理器和 macOS 钥匙串无需额外设置即可使用。</translation>
    </message>
    <message>
        <source>Tokens are stored in the OS keyring ({name}).</source>
        <translation>令牌保存在系统密钥环中（{name}）。</translation>
    </message>
    <message>
        <source>The token is empty.</source>
        <translation>令牌为空。</translation>
    </message>
    <message>
        <source>That does not look like a Hugging Face token (they start with &apos;hf_&apos;).</source>
        <translation>这看起来不像 Hugging Face 访问令牌（此类令牌以“hf_”开头）。</translation>
    </message>
    <message>
        <source>The keyring refused to store the token: {reason}</source>
        <translation>密钥环拒绝保存令牌：{reason}</translation>
    </message>
    <message>
        <source>OS: {os} {version} ({machine})</source>
        <translation>操作系统：{os} {version}（{machine}）</translation>
    </message>
    <message>
        <source>{cores} cores / {threads} threads</source>
        <translation>{cores} 核 / {threads} 线程</translation>
    </message>
    <message>
        <source>CPU: {name} — {cores} — {features}</source>
        <translation>CPU：{name} — {cores} — {features}</translation>
    </message>
    <message>
        <source>no SIMD features found</source>
        <translation>未检测到 SIMD 指令集</translation>
    </message>
    <message>
        <source>RAM: {total} total, {available} available</source>
        <translation>RAM：共 {total}，可用 {available}</translation>
    </message>
    <message>
        <source>GPU offload</source>
        <translation>GPU 卸载</translation>
    </message>
    <message>
        <source>llama.cpp: {llama}; ONNX: {onnx}</source>
        <translation>llama.cpp：{llama}；ONNX：{onnx}</translation>
    </message>
    <message>
        <source>CPU build</source>
        <translation>CPU 版本</translation>
    </message>
    <message>
        <source>GPU: none found ({engines})</source>
        <translation>GPU：未找到（{engines}）</translation>
    </message>
    <message>
        <source>memory unknown</source>
        <translation>显存未知</translation>
    </message>
    <message>
        <source>shares RAM, up to {size} for the GPU</source>
        <translation>与 RAM 共享，GPU 最多可用 {size}</translation>
    </message>
    <message>
        <source>{size} VRAM</source>
        <translation>{size} VRAM</translation>
    </message>
    <message>
        <source>, {size} free</source>
        <translation>，可用 {size}</translation>
    </message>
    <message>
        <source>used by {engines}</source>
        <translation>可供 {engines} 使用</translation>
    </message>
    <message>
        <source> and </source>
        <translation> 和 </translation>
    </message>
    <message>
        <source>no engine here can use it</source>
        <translation>本机的引擎都无法使用它</translation>
    </message>
    <message>
        <source>GPU: {name} — {memory} — {used}</source>
        <translation>GPU：{name} — {memory} — {used}</translation>
    </message>
    <message>
        <source>Engines: {engines}</source>
        <translation>引擎：{engines}</translation>
    </message>
    <message>
        <source>Disk: free space unknown in {folder}</source>
        <translation>磁盘：{folder} 的可用空间未知</translation>
    </message>
    <message>
        <source>Disk: free space unknown</source>
        <translation>磁盘：可用空间未知</translation>
    </message>
    <message>
        <source>Disk: {free} free in {folder}</source>
        <translation>磁盘：{folder} 中可用 {free}</translation>
    </message>
    <message>
        <source>The speed calibration</source>
        <translation>速度校准</translation>
    </message>
    <message>
        <source>Cannot open the conversation database {path}: {reason}</source>
        <translation>无法打开对话数据库 {path}：{reason}</translation>
    </message>
    <message>
        <source>{path} was written by a newer EdgeChat (schema {version}); update EdgeChat.</source>
        <translation>{path} 由更新版本的 EdgeChat 写入（数据库架构 {version}）；请更新 EdgeChat。</translation>
    </message>
    <message>
        <source>must be text</source>
        <translation>必须是文本</translation>
    </message>
    <message>
        <source>is longer than {limit} characters</source>
        <translation>超过了 {limit} 个字符</translation>
    </message>
    <message>
        <source>contains characters that cannot be stored</source>
        <translation>包含无法保存的字符</translation>
    </message>
    <message>
        <source>must be a number</source>
        <translation>必须是数字</translation>
    </message>
    <message>
        <source>must be a finite number</source>
        <translation>必须是有限的数字</translation>
    </message>
    <message>
        <source>must be a whole number</source>
        <translation>必须是整数</translation>
    </message>
    <message>
        <source>must be between {low} and {high}</source>
        <translation>必须介于 {low} 和 {high} 之间</translation>
    </message>
    <message>
        <source>must be a list of whole numbers</source>
        <translation>必须是整数列表</translation>
    </message>
    <message>
        <source>must be true or false</source>
        <translation>必须是 true 或 false</translation>
    </message>
    <message>
        <source>must be one of: {values}</source>
        <translation>必须是以下之一：{values}</translation>
    </message>
    <message>
        <source>must be a JSON object</source>
        <translation>必须是 JSON 对象</translation>
    </message>
    <message>
        <source>The import was cancelled.</source>
        <translation>导入已取消。</translation>
    </message>
    <message>
        <source>This file is not an EdgeChat conversation export.</source>
        <translation>此文件不是 EdgeChat 导出的对话。</translation>
    </message>
    <message>
        <source>This export is version {version}; this EdgeChat reads 1.</source>
        <translation>此导出文件的版本为 {version}；当前 EdgeChat 只能读取版本 1。</translation>
    </message>
    <message>
        <source>The export has no message list.</source>
        <translation>导出文件中没有消息列表。</translation>
    </message>
    <message>
        <source>The export has {count} messages; EdgeChat imports at most {limit} per chat.</source>
        <translation>导出文件有 {count} 条消息；EdgeChat 每个对话最多导入 {limit} 条。</translation>
    </message>
    <message>
        <source>The export&apos;s title {problem}.</source>
        <translation>导出文件的标题{problem}。</translation>
    </message>
    <message>
        <source>Imported chat</source>
        <translation>导入的对话</translation>
    </message>
    <message>
        <source>The export&apos;s settings: {field} {problem}.</source>
        <translation>导出文件的设置：{field} {problem}。</translation>
    </message>
    <message>
        <source>Message {number} of the export: {field} {problem}.</source>
        <translation>导出文件的第 {number} 条消息：{field} {problem}。</translation>
    </message>
    <message>
        <source>the message</source>
        <translation>该消息</translation>
    </message>
    <message>
        <source>is missing</source>
        <translation>缺失</translation>
    </message>
    <message>
        <source>is the id of an earlier message too</source>
        <translation>与前面某条消息的 ID 重复</translation>
    </message>
    <message>
        <source>{value} is not a number JSON allows</source>
        <translation>{value} 不是 JSON 允许的数字</translation>
    </message>
    <message>
        <source>This file is nested more than {limit} levels deep; it is not an EdgeChat conversation export.</source>
        <translation>此文件的嵌套超过 {limit} 层；它不是 EdgeChat 导出的对话。</translation>
    </message>
    <message>
        <source>Could not read {path}: {reason}</source>
        <translation>无法读取 {path}：{reason}</translation>
    </message>
    <message>
        <source>{name} is {size} MB; EdgeChat imports chats of up to {limit} MB.</source>
        <translation>{name} 有 {size} MB；EdgeChat 最多导入 {limit} MB 的对话。</translation>
    </message>
    <message>
        <source>it is not UTF-8 text (byte {offset})</source>
        <translation>它不是 UTF-8 文本（第 {offset} 字节）</translation>
    </message>
    <message>
        <source>The conversation database was damaged, so EdgeChat started with an empty one. The damaged file was kept as {path}.</source>
        <translation>对话数据库已损坏，EdgeChat 已使用一个新的空数据库启动。损坏的文件已保留为 {path}。</translation>
    </message>
    <message>
        <source>The conversation database {path} is damaged and could not be moved aside ({reason}). Move or rename it yourself, then start EdgeChat again.</source>
        <translation>对话数据库 {path} 已损坏，且无法移到一旁（{reason}）。请自行移动或重命名该文件，然后重新启动 EdgeChat。</translation>
    </message>
    <message>
        <source>This model file has no chat template; using the {family} format.</source>
        <translation>此模型文件没有聊天模板；改用 {family} 格式。</translation>
    </message>
    <message>
        <source>This model file&apos;s chat template does not work ({reason}); using the {family} format.</source>
        <translation>此模型文件的聊天模板无法使用（{reason}）；改用 {family} 格式。</translation>
    </message>
    <message>
        <source>You are a helpful assistant.</source>
        <translation>你是一个乐于助人的助手。</translation>
    </message>
    <message>
        <source>Hello!</source>
        <translation>你好！</translation>
    </message>
    <message>
        <source>Hello! How can I help you today?</source>
        <translation>你好！今天我能帮你做什么？</translation>
    </message>
    <message>
        <source>What is the capital of France?</source>
        <translation>法国的首都是哪里？</translation>
    </message>
    <message>
        <source>The load settings</source>
        <translation>加载设置</translation>
    </message>
    <message>
        <source>Set by the server this model runs on.</source>
        <translation>由运行此模型的服务器设定。</translation>
    </message>
    <message>
        <source>{size} of RAM available</source>
        <translation>可用 RAM {size}</translation>
    </message>
    <message>
        <source>{tokens} tokens: even this needs about {need}, more than the {have} can spare.</source>
        <translation>{tokens} 个 token：即使这样也需要约 {need}，超出了可腾出的内存（{have}）。</translation>
    </message>
    <message>
        <source>trained for {tokens}</source>
        <translation>训练长度 {tokens}</translation>
    </message>
    <message>
        <source>training length unknown</source>
        <translation>训练长度未知</translation>
    </message>
    <message>
        <source>all the model was trained for</source>
        <translation>模型训练时的完整长度</translation>
    </message>
    <message>
        <source>plenty for long chats; more costs memory at every load</source>
        <translation>足够长对话使用；再大每次加载都会多占内存</translation>
    </message>
    <message>
        <source>the largest that leaves room for other programs</source>
        <translation>能为其他程序留出空间的最大值</translation>
    </message>
    <message>
        <source>{tokens} tokens ({trained}): {why}. Needs about {need} of {have}.</source>
        <translation>{tokens} 个 token（{trained}）：{why}。约需 {need}（{have}）。</translation>
    </message>
    <message>
        <source>{threads}: one per physical core ({cores} cores, {logical} threads); more only make the cores wait on each other.</source>
        <translation>{threads}：每个物理核心一个（{cores} 核，{logical} 线程）；再多只会让核心互相等待。</translation>
    </message>
    <message>
        <source>All layers: the whole model fits on {gpu}.</source>
        <translation>全部层：整个模型都能放入 {gpu}。</translation>
    </message>
    <message>
        <source>None: the model does not fit on the GPU with room to spare; lower it to a part of the layers to try.</source>
        <translation>无：模型放入 GPU 后剩余空间不足；可尝试改为只卸载部分层。</translation>
    </message>
    <message>
        <source>None: this llama.cpp build cannot use a GPU here, so the model runs on the CPU.</source>
        <translation>无：此 llama.cpp 版本无法在本机使用 GPU，因此模型在 CPU 上运行。</translation>
    </message>
    <message>
        <source>Auto: llama.cpp uses the GPU offload above.</source>
        <translation>自动：llama.cpp 使用上方的 GPU 卸载设置。</translation>
    </message>
    <message>
        <source>Not used by ONNX Runtime: choose the device instead.</source>
        <translation>ONNX Runtime 不使用此项：请改为选择设备。</translation>
    </message>
    <message>
        <source>Auto: {gpu} can run this folder.</source>
        <translation>自动：{gpu} 可以运行此文件夹中的模型。</translation>
    </message>
    <message>
        <source>Auto: this folder runs on the CPU here (no usable GPU for it).</source>
        <translation>自动：此文件夹中的模型在本机的 CPU 上运行（没有可用的 GPU）。</translation>
    </message>
    <message>
        <source>f16: full precision, {size} at this context. q8_0 halves it with hardly any loss, q4_0 quarters it with some; both need flash attention for the V cache.</source>
        <translation>f16：全精度，在此上下文长度下占用 {size}。q8_0 可将其减半且几乎无损，q4_0 可减至四分之一但有一定损失；两者用于 V 缓存时都需要开启 flash attention。</translation>
    </message>
    <message>
        <source>On: faster on the GPU and keeps the attention scores out of memory.</source>
        <translation>开启：在 GPU 上更快，且注意力分数不占用内存。</translation>
    </message>
    <message>
        <source>Off: on the CPU it gains little; turn it on to quantize the V cache.</source>
        <translation>关闭：在 CPU 上收益不大；如需量化 V 缓存，请开启。</translation>
    </message>
    <message>
        <source>Set by the ONNX folder (its KV cache has the model&apos;s own type).</source>
        <translation>由 ONNX 文件夹设定（其 KV 缓存使用模型自身的类型）。</translation>
    </message>
    <message>
        <source>Chosen by ONNX Runtime.</source>
        <translation>由 ONNX Runtime 选择。</translation>
    </message>
    <message>
        <source>{size}: room for the prompts of recent chats, so going back to one does not read it all again, while leaving memory for the model.</source>
        <translation>{size}：为最近对话的提示词留出空间，回到某个对话时无需重新读取全部内容，同时为模型保留内存。</translation>
    </message>
    <message>
        <source>The list of servers</source>
        <translation>服务器列表</translation>
    </message>
    <message>
        <source>The keyring refused to store the API key ({reason}); it is used for this session only.</source>
        <translation>密钥环拒绝保存 API 密钥（{reason}）；该密钥仅在本次会话中使用。</translation>
    </message>
    <message>
        <source>The key is kept in the OS keyring ({name}).</source>
        <translation>密钥保存在系统密钥环中（{name}）。</translation>
    </message>
    <message>
        <source>No OS keyring is available: a key is used for this session only and never written to a file.</source>
        <translation>没有可用的系统密钥环：密钥仅在本次会话中使用，绝不会写入文件。</translation>
    </message>
    <message>
        <source>The server of {model} is no longer saved. Connect to it again with &quot;Connect to a server…&quot;.</source>
        <translation>{model} 所在的服务器已不再保存。请通过“连接到服务器…”重新连接。</translation>
    </message>
    <message>
        <source>Fast</source>
        <translation>快</translation>
    </message>
    <message>
        <source>Usable</source>
        <translation>可用</translation>
    </message>
    <message>
        <source>Slow</source>
        <translation>慢</translation>
    </message>
    <message>
        <source>Won&apos;t fit</source>
        <translation>无法运行</translation>
    </message>
    <message>
        <source>Speed unknown</source>
        <translation>速度未知</translation>
    </message>
    <message>
        <source>on {gpu}: from its memory bandwidth</source>
        <translation>在 {gpu} 上：根据其显存带宽估算</translation>
    </message>
    <message>
        <source>on {gpu}: its memory bandwidth is not known here, so a conservative guess</source>
        <translation>在 {gpu} 上：其显存带宽未知，因此为保守估计</translation>
    </message>
    <message>
        <source>from replies measured on this computer</source>
        <translation>根据本机实测的回复速度</translation>
    </message>
    <message>
        <source>from replies measured on this computer with the other engine, which this engine&apos;s replies agree with</source>
        <translation>依据在这台电脑上用另一种引擎测得的回复速度，本引擎的回复与之相符</translation>
    </message>
    <message>
        <source>from replies measured on this computer with the other engine</source>
        <translation>根据本机使用另一引擎实测的回复速度</translation>
    </message>
    <message>
        <source>from this computer&apos;s memory speed, which the replies measured here agree with</source>
        <translation>依据这台电脑的内存速度，在此测得的回复与之相符</translation>
    </message>
    <message>
        <source>from this computer&apos;s memory speed, until replies measured here show otherwise</source>
        <translation>依据这台电脑的内存速度，直到在此测得的回复显示不同</translation>
    </message>
    <message>
        <source>≈ {value} tok/s</source>
        <translation>≈ {value} tok/s</translation>
    </message>
    <message>
        <source>Listening on {host} lets other computers in: it needs an API key.</source>
        <translation>在 {host} 上监听会让其他电脑接入：需要 API 密钥。</translation>
    </message>
    <message>
        <source>Could not listen on {host}:{port}: the port is in use or the address is not on this computer.</source>
        <translation>无法在 {host}:{port} 上监听：端口已被占用，或该地址不属于这台电脑。</translation>
    </message>
    <message>
        <source>The API server did not start: {reason}</source>
        <translation>API 服务器未能启动：{reason}</translation>
    </message>
    <message>
        <source>nothing is answering at that address</source>
        <translation>该地址没有任何响应</translation>
    </message>
    <message>
        <source>the connection was cut off</source>
        <translation>连接被中断</translation>
    </message>
    <message>
        <source>it took too long to answer</source>
        <translation>响应时间过长</translation>
    </message>
    <message>
        <source>this computer cannot reach that address</source>
        <translation>这台电脑无法访问该地址</translation>
    </message>
    <message>
        <source>this computer is not connected to that network</source>
        <translation>这台电脑未连接到该网络</translation>
    </message>
    <message>
        <source>this computer is not connected to a network</source>
        <translation>这台电脑未连接任何网络</translation>
    </message>
    <message>
        <source>another program already uses that port</source>
        <translation>另一个程序已在使用该端口</translation>
    </message>
    <message>
        <source>that address does not belong to this computer</source>
        <translation>该地址不属于这台电脑</translation>
    </message>
    <message>
        <source>EdgeChat is not allowed to use it</source>
        <translation>EdgeChat 无权使用它</translation>
    </message>
    <message>
        <source>it is not there</source>
        <translation>它不存在</translation>
    </message>
    <message>
        <source>the disk is full</source>
        <translation>磁盘已满</translation>
    </message>
    <message>
        <source>the disk can only be read, not written</source>
        <translation>磁盘只能读取，不能写入</translation>
    </message>
    <message>
        <source>this computer ran out of memory</source>
        <translation>这台电脑内存不足</translation>
    </message>
    <message>
        <source>the server&apos;s name could not be found</source>
        <translation>找不到服务器的名称</translation>
    </message>
    <message>
        <source>the server&apos;s certificate is not trusted by this computer</source>
        <translation>这台电脑不信任该服务器的证书</translation>
    </message>
    <message>
        <source>a secure connection could not be set up</source>
        <translation>无法建立安全连接</translation>
    </message>
    <message>
        <source>the server closed the connection unexpectedly</source>
        <translation>服务器意外关闭了连接</translation>
    </message>
    <message>
        <source>{name} ({quant}, {format}, {size}) {speed} · {label}</source>
        <translation>{name}（{quant}，{format}，{size}）{speed} · {label}</translation>
    </message>
    <message>
        <source>It was turned on for this run (--offline or EDGECHAT_OFFLINE=1).</source>
        <translation>本次运行已开启（--offline 或 EDGECHAT_OFFLINE=1）。</translation>
    </message>
    <message>
        <source>Turn it off in Settings ▸ Network to go online.</source>
        <translation>在“设置 ▸ 网络”中关闭它即可联网。</translation>
    </message>
    <message>
        <source>Work offline is on: {doing} needs the internet.</source>
        <translation>“离线工作”已开启：{doing}需要联网。</translation>
    </message>
    <message>
        <source>Work offline is on: the server at {host} is on another computer, so EdgeChat does not connect to it. Servers on this computer (localhost) still work.</source>
        <translation>“离线工作”已开启：{host} 上的服务器在另一台电脑上，因此 EdgeChat 不会连接它。这台电脑上的服务器（localhost）仍可使用。</translation>
    </message>
    <message>
        <source>Work offline is on: no connection to {host}.</source>
        <translation>“离线工作”已开启：不连接 {host}。</translation>
    </message>
    <message>
        <source>Work offline is on: {host} is not looked up.</source>
        <translation>“离线工作”已开启：不解析 {host}。</translation>
    </message>
    <message>
        <source>{what} ({path}) was damaged; it was moved to {aside} and a new one was started.</source>
        <translation>{what}（{path}）已损坏；它已被移到 {aside}，并新建了一个。</translation>
    </message>
    <message>
        <source>{what} ({path}) was written by a newer version of EdgeChat. This version leaves it as it is and uses its defaults instead; changes made now are not saved in it.</source>
        <translation>{what}（{path}）由更新版本的 EdgeChat 写入。此版本保持其原样并改用默认值；现在所做的更改不会保存到其中。</translation>
    </message>
    <message>
        <source>{what} ({path}) could not be read ({reason}). EdgeChat uses its defaults and leaves the file as it is.</source>
        <translation>无法读取{what}（{path}）（{reason}）。EdgeChat 使用默认值，并保持该文件原样。</translation>
    </message>
    <message>
        <source>{what} ({path}) is damaged and could not be moved aside ({reason}). EdgeChat uses its defaults and leaves the file as it is: move or delete it yourself.</source>
        <translation>{what}（{path}）已损坏且无法移开（{reason}）。EdgeChat 使用默认值并保持该文件原样：请自行移动或删除它。</translation>
    </message>
    <message>
        <source>{what} ({path}) was written by a newer version of EdgeChat, so this version does not change it. Update EdgeChat, or move the file away to start a new one.</source>
        <translation>{what}（{path}）由更新版本的 EdgeChat 写入，因此此版本不会更改它。请更新 EdgeChat，或将该文件移走以新建一个。</translation>
    </message>
    <message>
        <source>{what} ({path}) cannot be read ({reason}), so it is not written over. Move it away to start a new one.</source>
        <translation>无法读取{what}（{path}）（{reason}），因此不会覆盖它。请将其移走以新建一个。</translation>
    </message>
</context>
<context>
    <name>CounterWorker</name>
    <message>
        <source>Could not count tokens: {reason}</source>
        <translation>无法统计 token 数：{reason}</translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <source>Waiting…</source>
        <translation>等待中…</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Pausing…</source>
        <translation>正在暂停…</translation>
    </message>
    <message>
        <source>Resuming…</source>
        <translation>正在继续…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>, {minutes} min left</source>
        <translation>，剩余 {minutes} 分钟</translation>
    </message>
    <message>
        <source>, {seconds} s left</source>
        <translation>，剩余 {seconds} 秒</translation>
    </message>
    <message>
        <source>{done} of {total} — {speed} MB/s{left}</source>
        <translation>{done} / {total} — {speed} MB/s{left}</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
</context>
<context>
    <name>DownloadWorker</name>
    <message>
        <source>Cancelled before it started.</source>
        <translation>已在开始前取消。</translation>
    </message>
    <message>
        <source>Cancelled; the partial file was removed.</source>
        <translation>已取消，未下载完的文件已删除。</translation>
    </message>
    <message>
        <source>Paused before it started.</source>
        <translation>开始前已暂停。</translation>
    </message>
    <message>
        <source>Paused. What arrived is kept.</source>
        <translation>已暂停。已下载的部分会保留。</translation>
    </message>
    <message>
        <source>The download failed: {reason}</source>
        <translation>下载失败：{reason}</translation>
    </message>
</context>
<context>
    <name>ErrorHooks</name>
    <message>
        <source>Something went wrong — details in the log.
{path}</source>
        <translation>出了点问题——详情见日志。
{path}</translation>
    </message>
</context>
<context>
    <name>GenerationWorker</name>
    <message>
        <source>No model is loaded.</source>
        <translation>未加载模型。</translation>
    </message>
</context>
<context>
    <name>LibraryWindow</name>
    <message>
        <source>Model library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>Installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>Catalog</source>
        <translation>模型目录</translation>
    </message>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载任务</translation>
    </message>
    <message>
        <source>Comes with EdgeChat</source>
        <translation>EdgeChat 自带</translation>
    </message>
    <message>
        <source>Downloaded</source>
        <translation>已下载</translation>
    </message>
    <message>
        <source>Imported</source>
        <translation>已导入</translation>
    </message>
    <message>
        <source>Found on this computer</source>
        <translation>在本机上找到</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>In use</source>
        <translation>使用中</translation>
    </message>
    <message>
        <source>● Loaded</source>
        <translation>● 已加载</translation>
    </message>
    <message>
        <source>The model the chat uses now</source>
        <translation>对话当前使用的模型</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Speed here</source>
        <translation>本机速度</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Chat with it</source>
        <translation>用它聊天</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Import GGUF file…</source>
        <translation>导入 GGUF 文件…</translation>
    </message>
    <message>
        <source>Import ONNX folder…</source>
        <translation>导入 ONNX 文件夹…</translation>
    </message>
    <message>
        <source>Find models from other apps</source>
        <translation>查找其他应用中的模型</translation>
    </message>
    <message>
        <source>Select a model to see its prompt format</source>
        <translation>选择一个模型以查看其提示词格式</translation>
    </message>
    <message>
        <source>Rendering a sample chat with {name}&apos;s template…</source>
        <translation>正在用 {name} 的模板渲染示例对话…</translation>
    </message>
    <message>
        <source>The prompt this model reads for a sample chat:</source>
        <translation>此模型读到的示例对话提示词：</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Params</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Filter by name…</source>
        <translation>按名称筛选…</translation>
    </message>
    <message>
        <source>All formats</source>
        <translation>所有格式</translation>
    </message>
    <message>
        <source>Any fit</source>
        <translation>不限适配</translation>
    </message>
    <message>
        <source>Fits this machine</source>
        <translation>适合本机</translation>
    </message>
    <message>
        <source>Runs on GPU</source>
        <translation>可在 GPU 上运行</translation>
    </message>
    <message>
        <source>Usable speed or faster</source>
        <translation>速度可用或更快</translation>
    </message>
    <message>
        <source>Any size</source>
        <translation>不限大小</translation>
    </message>
    <message>
        <source>Under 1 GB</source>
        <translation>1 GB 以下</translation>
    </message>
    <message>
        <source>Under 3 GB</source>
        <translation>3 GB 以下</translation>
    </message>
    <message>
        <source>Under 5 GB</source>
        <translation>5 GB 以下</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>变体</translation>
    </message>
    <message>
        <source>Estimated decode speed {speed}, {how}.</source>
        <translation>估计解码速度 {speed}，{how}。</translation>
    </message>
    <message>
        <source>Search GGUF and ONNX repositories on Hugging Face…</source>
        <translation>在 Hugging Face 上搜索 GGUF 和 ONNX 仓库…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>Repository</source>
        <translation>仓库</translation>
    </message>
    <message>
        <source>Formats</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Downloads</source>
        <comment>column: how often a repository was downloaded</comment>
        <translation>下载量</translation>
    </message>
    <message>
        <source>Gated</source>
        <translation>访问受限</translation>
    </message>
    <message>
        <source>Download selected file or folder</source>
        <translation>下载所选文件或文件夹</translation>
    </message>
    <message>
        <source>Quantizations in this repository</source>
        <translation>此仓库中的量化版本</translation>
    </message>
    <message>
        <source>Detecting hardware…</source>
        <translation>正在检测硬件…</translation>
    </message>
    <message>
        <source>This model comes with EdgeChat and cannot be removed: it is the one that loads when no other model can.</source>
        <translation>此模型随 EdgeChat 提供，无法移除：其他模型都无法加载时，会加载它。</translation>
    </message>
    <message>
        <source>No catalog model both fits this computer with room to spare and writes at a usable speed here (5 tokens/s or more).</source>
        <translation>模型目录中没有既能在本机留有余量地运行、又能以可用速度（每秒 5 个 token 以上）生成的模型。</translation>
    </message>
    <message>
        <source>{count} catalog entries were skipped as malformed.</source>
        <translation>已跳过 {count} 个格式有误的目录条目。</translation>
    </message>
    <message>
        <source>Could not detect this machine&apos;s hardware.</source>
        <translation>无法检测本机硬件。</translation>
    </message>
    <message>
        <source>yes: accept the licence on its page and set a token in Settings</source>
        <translation>是：请在其页面上接受许可协议，并在“设置”中填写访问令牌</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>{count} tokens</source>
        <translation>{count} 个 token</translation>
    </message>
    <message>
        <source>Thinks before answering, unless the chat&apos;s Think switch is off (Chat settings); /think and /no_think in a message switch it too. The thinking shows folded above the answer.</source>
        <translation>回答前会先思考，除非关闭了本对话的“思考”开关（对话设置）；在消息中写 /think 或 /no_think 也可切换。思考过程折叠显示在回答上方。</translation>
    </message>
    <message>
        <source>Always thinks before answering; the thinking shows folded above the answer and takes part of the reply&apos;s tokens.</source>
        <translation>回答前总会先思考；思考过程折叠显示在回答上方，并占用回复的一部分 token。</translation>
    </message>
    <message>
        <source>Speed here: {speed} ({label}), {how}.</source>
        <translation>本机速度：{speed}（{label}），{how}。</translation>
    </message>
    <message>
        <source>★ Recommended for this computer: the most capable model that fits with room to spare and writes at a usable speed here.</source>
        <translation>★ 为本机推荐：在能留有余量地运行且生成速度可用的模型中，能力最强的一个。</translation>
    </message>
    <message>
        <source>{name} is the model loaded now.</source>
        <translation>{name} 是当前已加载的模型。</translation>
    </message>
    <message>
        <source>Loading {name} in the chat window…</source>
        <translation>正在对话窗口中加载 {name}…</translation>
    </message>
    <message>
        <source>{name} was opened from a file and is not in the library: there is nothing to remove. Import it to keep it listed.</source>
        <translation>{name} 是从文件打开的，不在模型库中：没有可移除的内容。导入后即可保留在列表中。</translation>
    </message>
    <message>
        <source>Its files will be deleted.</source>
        <translation>其文件将被删除。</translation>
    </message>
    <message>
        <source>Its files stay where they are.</source>
        <translation>其文件将保留在原处。</translation>
    </message>
    <message>
        <source>Remove {name}? {what}</source>
        <translation>要移除 {name} 吗？{what}</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>移除模型</translation>
    </message>
    <message>
        <source>Imported {name} (left where it is).</source>
        <translation>已导入 {name}（文件保留在原处）。</translation>
    </message>
    <message>
        <source>Import an ONNX GenAI folder</source>
        <translation>导入 ONNX GenAI 文件夹</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Opened from a file</source>
        <translation>从文件打开</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>Variants</source>
        <translation>变体</translation>
    </message>
    <message>
        <source>Finding the model to recommend for this computer…</source>
        <translation>正在查找适合本机的推荐模型…</translation>
    </message>
    <message>
        <source>Show it</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Recommended for this computer: {summary}</source>
        <translation>推荐给这台电脑：{summary}</translation>
    </message>
    <message>
        <source>Removing {name}…</source>
        <translation>正在移除 {name}…</translation>
    </message>
    <message>
        <source>Removed {name}.</source>
        <translation>已移除 {name}。</translation>
    </message>
    <message>
        <source>Checking {path}…</source>
        <translation>正在检查 {path}…</translation>
    </message>
    <message>
        <source>Import a GGUF file</source>
        <translation>导入 GGUF 文件</translation>
    </message>
    <message>
        <source>Looking for models…</source>
        <translation>正在查找模型…</translation>
    </message>
    <message>
        <source>Skipped {path}: {error}</source>
        <translation>已跳过 {path}：{error}</translation>
    </message>
    <message>
        <source>Found {count} model(s) from other apps; listed without copying.</source>
        <translation>在其他应用中找到 {count} 个模型；已列出，未复制文件。</translation>
    </message>
    <message>
        <source>No models from other apps were found.</source>
        <translation>未在其他应用中找到模型。</translation>
    </message>
    <message>
        <source>{title} is already installed.</source>
        <translation>{title} 已安装。</translation>
    </message>
    <message>
        <source>Paused in an earlier session. What arrived is kept: Resume.</source>
        <translation>已在上次运行时暂停。已下载的部分会保留：点击“继续”即可。</translation>
    </message>
    <message>
        <source>Not started in an earlier session: Download starts it.</source>
        <translation>在之前的会话中未开始：点击“下载”开始。</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>正在搜索…</translation>
    </message>
    <message>
        <source>Search cancelled.</source>
        <translation>搜索已取消。</translation>
    </message>
    <message>
        <source>{count} repositories found.</source>
        <translation>找到 {count} 个仓库。</translation>
    </message>
    <message>
        <source>(top folder)</source>
        <translation>（顶层文件夹）</translation>
    </message>
    <message>
        <source>{repo} has no GGUF file or ONNX GenAI folder.</source>
        <translation>{repo} 中没有 GGUF 文件或 ONNX GenAI 文件夹。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>Installed and verified: {path}</source>
        <translation>已安装并校验：{path}</translation>
    </message>
</context>
<context>
    <name>LoadSettingsDialog</name>
    <message>
        <source>Load settings — {name}</source>
        <translation>加载设置 — {name}</translation>
    </message>
    <message>
        <source>Reading the model…</source>
        <translation>正在读取模型…</translation>
    </message>
    <message>
        <source>Recommended: {why}</source>
        <translation>推荐：{why}</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> 个 token</translation>
    </message>
    <message>
        <source>This model does not say what it was trained for.</source>
        <translation>此模型未注明其训练时的上下文长度。</translation>
    </message>
    <message>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <source> of {count} layers</source>
        <translation> / {count} 层</translation>
    </message>
    <message>
        <source>GPU offload</source>
        <translation>GPU 卸载</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CUDA (NVIDIA)</source>
        <translation>CUDA (NVIDIA)</translation>
    </message>
    <message>
        <source>DirectML</source>
        <translation>DirectML</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>f16 (full precision)</source>
        <translation>f16（全精度）</translation>
    </message>
    <message>
        <source>q8_0 (half the memory)</source>
        <translation>q8_0（内存减半）</translation>
    </message>
    <message>
        <source>q4_0 (a quarter)</source>
        <translation>q4_0（四分之一内存）</translation>
    </message>
    <message>
        <source>KV-cache type</source>
        <translation>KV 缓存类型</translation>
    </message>
    <message>
        <source>Use flash attention</source>
        <translation>使用 Flash Attention</translation>
    </message>
    <message>
        <source>Flash attention</source>
        <translation>Flash Attention</translation>
    </message>
    <message>
        <source> MB</source>
        <translation> MB</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Prompt cache memory</source>
        <translation>提示词缓存内存</translation>
    </message>
    <message>
        <source>Reload with these settings</source>
        <translation>用这些设置重新加载</translation>
    </message>
    <message>
        <source>Restore defaults</source>
        <translation>恢复默认值</translation>
    </message>
    <message>
        <source>{tokens} tokens of context</source>
        <translation>{tokens} token 上下文</translation>
    </message>
    <message>
        <source>{threads} threads</source>
        <translation>{threads} 个线程</translation>
    </message>
    <message>
        <source>{kv} KV cache</source>
        <translation>{kv} KV 缓存</translation>
    </message>
    <message>
        <source>{name} is loaded with {settings}.</source>
        <translation>{name} 已加载，设置为：{settings}。</translation>
    </message>
    <message>
        <source>These settings are kept for this model and used every time it loads.</source>
        <translation>这些设置会为此模型保存，并在每次加载时使用。</translation>
    </message>
    <message>
        <source>Nothing is saved for this model yet: these are the values it is loaded with; Restore defaults gives the ones recommended for this computer.</source>
        <translation>此模型尚未保存任何设置：以下是它当前加载所用的值；点击“恢复默认值”可改用为本机推荐的值。</translation>
    </message>
    <message>
        <source>Nothing is saved for this model yet: these are the values recommended for this computer.</source>
        <translation>此模型尚未保存任何设置：以下是为本机推荐的值。</translation>
    </message>
    <message>
        <source>This model was trained for at most {tokens} tokens: it cannot use more. For longer texts, choose a model trained for more (Model ▸ Get more models…).</source>
        <translation>此模型最多训练了 {tokens} 个 token：无法使用更多。如需更长的文本，请选择训练长度更长的模型（模型 ▸ 获取更多模型…）。</translation>
    </message>
    <message>
        <source>At most {tokens} tokens for a model that does not say what it was trained for.</source>
        <translation>对于未注明训练长度的模型，最多 {tokens} 个 token。</translation>
    </message>
    <message>
        <source>Lower the context length to at most {tokens} tokens first.</source>
        <translation>请先将上下文长度降到最多 {tokens} 个 token。</translation>
    </message>
    <message>
        <source>llama.cpp quantizes the V cache only with flash attention: without it only K is quantized (V stays f16).</source>
        <translation>llama.cpp 仅在启用 Flash Attention 时才量化 V 缓存：未启用时只量化 K（V 保持 f16）。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation>对话设置</translation>
    </message>
    <message>
        <source>This chat&apos;s system prompt and sampling (Ctrl+Shift+P)</source>
        <translation>此聊天的系统提示词和采样（Ctrl+Shift+P）</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Work offline is on: EdgeChat connects to nothing outside this computer.</source>
        <translation>“离线工作”已开启：EdgeChat 不连接这台电脑以外的任何地方。</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>新对话(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Open model file…</source>
        <translation>打开模型文件(&amp;O)…</translation>
    </message>
    <message>
        <source>Open ONNX model &amp;folder…</source>
        <translation>打开 ONNX 模型文件夹(&amp;F)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>Focus input</source>
        <translation>聚焦输入框</translation>
    </message>
    <message>
        <source>Model &amp;library…</source>
        <translation>模型库(&amp;L)…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Search chats</source>
        <translation>搜索对话(&amp;S)</translation>
    </message>
    <message>
        <source>Export chat as &amp;Markdown…</source>
        <translation>将对话导出为 Markdown(&amp;M)…</translation>
    </message>
    <message>
        <source>Export chat as &amp;JSON…</source>
        <translation>将对话导出为 JSON(&amp;J)…</translation>
    </message>
    <message>
        <source>&amp;Import chat…</source>
        <translation>导入对话(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;Rename chat</source>
        <translation>重命名对话(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Delete chat…</source>
        <translation>删除对话(&amp;D)…</translation>
    </message>
    <message>
        <source>Chat se&amp;ttings</source>
        <translation>对话设置(&amp;T)</translation>
    </message>
    <message>
        <source>Chat &amp;list</source>
        <translation>对话列表(&amp;L)</translation>
    </message>
    <message>
        <source>Show or hide the chat list (Ctrl+B)</source>
        <translation>显示或隐藏对话列表（Ctrl+B）</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>S&amp;ettings</source>
        <translation>设置(&amp;E)</translation>
    </message>
    <message>
        <source>No model is loaded. Open a model file (File ▸ Open model file…).</source>
        <translation>未加载模型。请打开模型文件（文件 ▸ 打开模型文件…）。</translation>
    </message>
    <message>
        <source>Loading {name}…</source>
        <translation>正在加载 {name}…</translation>
    </message>
    <message>
        <source>Open a model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Open an ONNX GenAI model folder</source>
        <translation>打开 ONNX GenAI 模型文件夹</translation>
    </message>
    <message>
        <source>The reply in “{title}” could not be finished: {reason}</source>
        <translation>“{title}”中的回复未能完成：{reason}</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>Open &amp;log folder</source>
        <translation>打开日志文件夹(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;About EdgeChat</source>
        <translation>关于 EdgeChat(&amp;A)</translation>
    </message>
    <message>
        <source>The log is in {folder}</source>
        <translation>日志位于 {folder}</translation>
    </message>
    <message>
        <source>Show {count} earlier messages ({hidden} not shown)</source>
        <translation>显示较早的 {count} 条消息（共 {hidden} 条未显示）</translation>
    </message>
    <message>
        <source>Open a chat to export it.</source>
        <translation>请先打开要导出的对话。</translation>
    </message>
    <message>
        <source>Could not write {path}: {reason}</source>
        <translation>无法写入 {path}：{reason}</translation>
    </message>
    <message>
        <source>Exported to {path}</source>
        <translation>已导出到 {path}</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Export chat</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Import chat</source>
        <translation>导入对话</translation>
    </message>
    <message>
        <source>EdgeChat export (*.json)</source>
        <translation>EdgeChat 导出文件 (*.json)</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Rename chat</source>
        <translation>重命名对话</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Delete chat</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <source>Delete “{title}” and all its messages?</source>
        <translation>要删除“{title}”及其所有消息吗？</translation>
    </message>
    <message>
        <source>Delete this version and the messages that follow it?</source>
        <translation>要删除此版本及其后的所有消息吗？</translation>
    </message>
    <message>
        <source>Delete this message?</source>
        <translation>要删除这条消息吗？</translation>
    </message>
    <message>
        <source>Delete message</source>
        <translation>删除消息</translation>
    </message>
    <message>
        <source>The chat is full</source>
        <translation>对话已满</translation>
    </message>
    <message>
        <source>This chat no longer fits the model&apos;s context. What should the model leave out for this reply? The chat itself keeps every message.</source>
        <translation>这段对话已超出模型的上下文长度。这次回复时，模型应省略哪些内容？对话本身会保留所有消息。</translation>
    </message>
    <message>
        <source>Leave out the oldest messages</source>
        <translation>省略最早的消息</translation>
    </message>
    <message>
        <source>Keep the first turn, leave out the middle</source>
        <translation>保留第一轮，省略中间部分</translation>
    </message>
    <message>
        <source>Don&apos;t send</source>
        <translation>不发送</translation>
    </message>
    <message>
        <source>Context: counting…</source>
        <translation>上下文：正在计算…</translation>
    </message>
    <message>
        <source>{name} runs on {device}: {reason}.</source>
        <translation>{name} 在 {device} 上运行：{reason}。</translation>
    </message>
    <message>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>, 1 thread</source>
        <translation>，1 个线程</translation>
    </message>
    <message>
        <source>, {threads} threads</source>
        <translation>，{threads} 个线程</translation>
    </message>
    <message>
        <source>Chats go to {server} at {url}: your messages leave this computer.</source>
        <translation>对话将发送到位于 {url} 的 {server}：你的消息会离开这台电脑。</translation>
    </message>
    <message>
        <source>Device: {device} ({reason})</source>
        <translation>设备：{device}（{reason}）</translation>
    </message>
    <message>
        <source>The prompt this model reads for a sample chat:</source>
        <translation>此模型读到的示例对话提示词：</translation>
    </message>
    <message>
        <source>A chat is being imported already.</source>
        <translation>已有一个对话正在导入。</translation>
    </message>
    <message>
        <source>Importing {name}…</source>
        <translation>正在导入 {name}…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Importing {name}… {percent}%</source>
        <translation>正在导入 {name}… {percent}%</translation>
    </message>
    <message>
        <source>Imported “{title}”</source>
        <translation>已导入“{title}”</translation>
    </message>
    <message>
        <source>Import cancelled; nothing was added.</source>
        <translation>导入已取消；未添加任何内容。</translation>
    </message>
</context>
<context>
    <name>MarkdownView</name>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the code</source>
        <translation>复制代码</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Interrupted: the app closed while this reply was written</source>
        <translation>已中断：生成此回复时应用被关闭</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>出错</translation>
    </message>
    <message>
        <source>Previous version</source>
        <translation>上一版本</translation>
    </message>
    <message>
        <source>Next version</source>
        <translation>下一版本</translation>
    </message>
    <message>
        <source>Enter sends as a new version; the current one is kept. Shift+Enter: new line.</source>
        <translation>按 Enter 作为新版本发送，当前版本会保留。Shift+Enter：换行。</translation>
    </message>
    <message>
        <source>Copy this message as Markdown</source>
        <translation>以 Markdown 格式复制此消息</translation>
    </message>
    <message>
        <source>Edit and send again as a new version</source>
        <translation>编辑后作为新版本重新发送</translation>
    </message>
    <message>
        <source>Write a new version of this reply</source>
        <translation>为此回复生成新版本</translation>
    </message>
    <message>
        <source>Delete this message</source>
        <translation>删除此消息</translation>
    </message>
    <message>
        <source>Version {index} of {count}</source>
        <translation>版本 {index} / {count}</translation>
    </message>
    <message>
        <source>left out of the context</source>
        <translation>未纳入上下文</translation>
    </message>
    <message>
        <source>Written by {model}</source>
        <translation>由 {model} 生成</translation>
    </message>
    <message>
        <source>Edit the message</source>
        <translation>编辑消息</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <source>The model you used last, {name}, is no longer at {path}; the bundled model is loaded instead. Choose another model above the chat.</source>
        <translation>上次使用的模型 {name} 已不在 {path}；已改为加载内置模型。请在对话上方选择其他模型。</translation>
    </message>
    <message>
        <source>The model you used last, {name}, is no longer at {path}.</source>
        <translation>上次使用的模型 {name} 已不在 {path}。</translation>
    </message>
    <message>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>The model you used last could not be loaded, so the bundled model is loaded instead.</source>
        <translation>无法加载上次使用的模型，已改为加载内置模型。</translation>
    </message>
    <message>
        <source>Choose the model that answers</source>
        <translation>选择用来回答的模型</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Load settings: context length, threads, GPU…</source>
        <translation>加载设置：上下文长度、线程、GPU…</translation>
    </message>
    <message>
        <source>Load settings</source>
        <translation>加载设置</translation>
    </message>
    <message>
        <source>Switch</source>
        <translation>切换</translation>
    </message>
    <message>
        <source>&amp;Load settings…</source>
        <translation>加载设置(&amp;L)…</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Choose model…</source>
        <translation>选择模型(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;Get more models…</source>
        <translation>获取更多模型(&amp;G)…</translation>
    </message>
    <message>
        <source>Loading {name}…</source>
        <translation>正在加载 {name}…</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <source>This chat was written with {name}.</source>
        <translation>此聊天由 {name} 写成。</translation>
    </message>
    <message>
        <source>Switch to {name}</source>
        <translation>切换到 {name}</translation>
    </message>
    <message>
        <source>Load {name} for this chat (the chat stays open)</source>
        <translation>为此聊天加载 {name}（聊天保持打开）</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>On servers</source>
        <translation>服务器上</translation>
    </message>
    <message>
        <source>Get more models…</source>
        <translation>获取更多模型…</translation>
    </message>
    <message>
        <source>Connect to a server…</source>
        <translation>连接到服务器…</translation>
    </message>
    <message>
        <source>{name} (bundled)</source>
        <translation>{name}（内置）</translation>
    </message>
    <message>
        <source>(file missing)</source>
        <translation>（文件缺失）</translation>
    </message>
    <message>
        <source>Change the context length…</source>
        <translation>更改上下文长度…</translation>
    </message>
    <message>
        <source>Models for longer texts…</source>
        <translation>适合更长文本的模型…</translation>
    </message>
    <message>
        <source>Load a model first: its load settings are kept per model.</source>
        <translation>请先加载模型：加载设置按模型分别保存。</translation>
    </message>
</context>
<context>
    <name>PrivacyPanel</name>
    <message>
        <source>EdgeChat sends nothing on its own (no telemetry). It keeps, on this computer:</source>
        <translation>EdgeChat 不会自行发送任何内容（无遥测）。它在这台电脑上保存：</translation>
    </message>
    <message>
        <source>Delete all chats…</source>
        <translation>删除所有聊天…</translation>
    </message>
    <message>
        <source>Clear prompt cache</source>
        <translation>清除提示缓存</translation>
    </message>
    <message>
        <source>Delete logs</source>
        <translation>删除日志</translation>
    </message>
    <message>
        <source>{count} chats, their settings and your presets</source>
        <translation>{count} 个聊天、它们的设置和你的预设</translation>
    </message>
    <message>
        <source>with {count} damaged copies kept aside</source>
        <translation>另有 {count} 个被移开的损坏副本</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>聊天</translation>
    </message>
    <message>
        <source>Prompt cache</source>
        <translation>提示缓存</translation>
    </message>
    <message>
        <source>what models read of your chats, encrypted · {size}</source>
        <translation>模型读取过的聊天内容，已加密 · {size}</translation>
    </message>
    <message>
        <source>Logs</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>errors and warnings · {size}</source>
        <translation>错误和警告 · {size}</translation>
    </message>
    <message>
        <source>The prompt cache&apos;s key: in the OS keyring ({name})</source>
        <translation>提示缓存的密钥：保存在系统密钥环中（{name}）</translation>
    </message>
    <message>
        <source>The prompt cache&apos;s key: no OS keyring was found, so in a file only your user account can read:</source>
        <translation>提示缓存的密钥：未找到系统密钥环，因此保存在只有你的用户帐户能读取的文件中：</translation>
    </message>
    <message>
        <source>Delete all {count} chats and every message in them? This cannot be undone.</source>
        <translation>删除全部 {count} 个聊天及其中的所有消息？此操作无法撤销。</translation>
    </message>
    <message>
        <source>The damaged copies of the chats kept aside go too.</source>
        <translation>被移开的聊天损坏副本也会一并删除。</translation>
    </message>
    <message>
        <source>Delete all chats</source>
        <translation>删除所有聊天</translation>
    </message>
    <message>
        <source>All chats deleted: {size} freed.</source>
        <translation>已删除所有聊天：释放了 {size}。</translation>
    </message>
    <message>
        <source>Prompt cache cleared: {size} freed.</source>
        <translation>已清除提示缓存：释放了 {size}。</translation>
    </message>
    <message>
        <source>Logs deleted: {size} freed.</source>
        <translation>已删除日志：释放了 {size}。</translation>
    </message>
</context>
<context>
    <name>PromptEdit</name>
    <message>
        <source>Message the model (Enter to send, Shift+Enter for a new line)</source>
        <translation>给模型发消息（Enter 发送，Shift+Enter 换行）</translation>
    </message>
</context>
<context>
    <name>RemoteDialog</name>
    <message>
        <source>Connect to a server</source>
        <translation>连接到服务器</translation>
    </message>
    <message>
        <source>Saved servers</source>
        <translation>已保存的服务器</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <source>optional, e.g. GPU box</source>
        <translation>可选，例如 GPU 主机</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>as the server reports (else 4,096)</source>
        <translation>以服务器报告为准（否则为 4,096）</translation>
    </message>
    <message>
        <source>The context length to assume when the server does not report one (vLLM and the llama.cpp server do). Used for the context meter and for fitting long chats.</source>
        <translation>服务器未报告上下文长度时采用的值（vLLM 和 llama.cpp 服务器会报告）。用于上下文用量显示和长对话的裁剪。</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>How long the server may stay silent (reading a long prompt, or between words) before the reply is given up.</source>
        <translation>服务器可以无响应多长时间（读取长提示词时，或生成词与词之间），超时后将放弃此次回复。</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>Wait for the server</source>
        <translation>等待服务器</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Forget this server</source>
        <translation>忘记此服务器</translation>
    </message>
    <message>
        <source>Models on the server</source>
        <translation>服务器上的模型</translation>
    </message>
    <message>
        <source>Add and use</source>
        <translation>添加并使用</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Chats with a server&apos;s model are sent to that server. Models on this computer never send anything.</source>
        <translation>使用服务器上的模型时，对话会发送到该服务器。本机上的模型从不发送任何内容。</translation>
    </message>
    <message>
        <source>Models to use:</source>
        <translation>要使用的模型：</translation>
    </message>
    <message>
        <source>New server</source>
        <translation>新服务器</translation>
    </message>
    <message>
        <source>a key is stored: type to replace it</source>
        <translation>已保存密钥：输入新密钥即可替换</translation>
    </message>
    <message>
        <source>Asking {url} for its models…</source>
        <translation>正在向 {url} 获取模型列表…</translation>
    </message>
    <message>
        <source>Cancelled. Nothing was changed.</source>
        <translation>已取消，未做任何更改。</translation>
    </message>
    <message>
        <source>Connected, but the server offers no models. Load one on the server, then test again.</source>
        <translation>已连接，但服务器没有提供任何模型。请先在服务器上加载模型，然后重新测试。</translation>
    </message>
    <message>
        <source>Connected: {count} models. Tick the ones to use.</source>
        <translation>已连接：{count} 个模型。请勾选要使用的模型。</translation>
    </message>
    <message>
        <source>Connected: 1 model.</source>
        <translation>已连接：1 个模型。</translation>
    </message>
    <message>
        <source>({tokens} tokens of context)</source>
        <translation>（{tokens} token 上下文）</translation>
    </message>
    <message>
        <source>Saved {name}.</source>
        <translation>已保存 {name}。</translation>
    </message>
    <message>
        <source>Forgot {name} and its key.</source>
        <translation>已忘记 {name} 及其密钥。</translation>
    </message>
</context>
<context>
    <name>SearchPanel</name>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Search all chats (Ctrl+F)</source>
        <translation>搜索所有聊天（Ctrl+F）</translation>
    </message>
    <message>
        <source>Search all chats</source>
        <translation>搜索所有对话</translation>
    </message>
    <message>
        <source>Search results</source>
        <translation>搜索结果</translation>
    </message>
    <message>
        <source>{count} matches (newest first; showing 50)</source>
        <translation>{count} 条结果（最新的在前，仅显示 50 条）</translation>
    </message>
    <message>
        <source>1 match</source>
        <translation>1 条结果</translation>
    </message>
    <message>
        <source>{count} matches</source>
        <translation>{count} 条结果</translation>
    </message>
</context>
<context>
    <name>ServerBridge</name>
    <message>
        <source>No model is loaded.</source>
        <translation>未加载模型。</translation>
    </message>
</context>
<context>
    <name>ServerMenu</name>
    <message>
        <source>Se&amp;rver</source>
        <translation>服务器(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;API server…</source>
        <translation>API 服务器(&amp;A)…</translation>
    </message>
    <message>
        <source>Serve the loaded model to other apps (OpenAI API)</source>
        <translation>向其他应用提供已加载的模型（OpenAI API）</translation>
    </message>
    <message>
        <source>Serving at {url}</source>
        <translation>正在提供服务：{url}</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Same as the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Restart now</source>
        <translation>立即重启</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>hf_…  (needed only for gated or private models)</source>
        <translation>hf_…（仅访问受限或私有模型需要）</translation>
    </message>
    <message>
        <source>Hugging Face access token</source>
        <translation>Hugging Face 访问令牌</translation>
    </message>
    <message>
        <source>Save token</source>
        <translation>保存令牌</translation>
    </message>
    <message>
        <source>Remove token</source>
        <translation>移除令牌</translation>
    </message>
    <message>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <source>Privacy</source>
        <translation>隐私</translation>
    </message>
    <message>
        <source>Work offline</source>
        <translation>离线工作</translation>
    </message>
    <message>
        <source>EdgeChat then connects to nothing outside this computer: Hugging Face search and downloads and servers on other computers are turned off. Chatting with the models on this computer never needs the network.</source>
        <translation>开启后，EdgeChat 不连接这台电脑以外的任何地方：Hugging Face 搜索和下载以及其他电脑上的服务器都会关闭。与这台电脑上的模型聊天从不需要网络。</translation>
    </message>
    <message>
        <source>It is on for this run (--offline or EDGECHAT_OFFLINE=1).</source>
        <translation>本次运行已开启（--offline 或 EDGECHAT_OFFLINE=1）。</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>网络</translation>
    </message>
    <message>
        <source>A token is stored.</source>
        <translation>已保存令牌。</translation>
    </message>
    <message>
        <source>No token is stored.</source>
        <translation>未保存令牌。</translation>
    </message>
    <message>
        <source>Saved in the OS keyring.</source>
        <translation>已保存到系统密钥环。</translation>
    </message>
    <message>
        <source>Removed.</source>
        <translation>已移除。</translation>
    </message>
    <message>
        <source>The new language is used from the next start of EdgeChat.</source>
        <translation>新语言将在下次启动 EdgeChat 时生效。</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Send the message (any message box)</source>
        <translation>发送消息（任意消息框）</translation>
    </message>
    <message>
        <source>New line in the message</source>
        <translation>在消息中换行</translation>
    </message>
    <message>
        <source>From the search field into its results</source>
        <translation>从搜索框进入搜索结果</translation>
    </message>
    <message>
        <source>Input → Send → Chat settings → messages</source>
        <translation>输入框 → 发送 → 对话设置 → 消息</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Writing and moving around</source>
        <translation>编辑与导航</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
</context>
<context>
    <name>ThinkingBlock</name>
    <message>
        <source>Thought</source>
        <translation>已思考</translation>
    </message>
    <message>
        <source>Thought for {seconds} s</source>
        <translation>已思考 {seconds} 秒</translation>
    </message>
    <message>
        <source>Copy the thinking</source>
        <translation>复制思考过程</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Stopped while thinking</source>
        <translation>思考时已停止</translation>
    </message>
</context>
<context>
    <name>WelcomeView</name>
    <message>
        <source>Write code</source>
        <translation>写代码</translation>
    </message>
    <message>
        <source>Write a Python function that checks whether a word is a palindrome.</source>
        <translation>写一个 Python 函数，检查一个单词是否为回文。</translation>
    </message>
    <message>
        <source>Explain</source>
        <translation>解释</translation>
    </message>
    <message>
        <source>Explain how a rainbow forms, in three sentences.</source>
        <translation>用三句话解释彩虹是如何形成的。</translation>
    </message>
    <message>
        <source>Brainstorm</source>
        <translation>头脑风暴</translation>
    </message>
    <message>
        <source>Give me five ideas for a rainy Sunday afternoon.</source>
        <translation>给我五个度过下雨的周日下午的点子。</translation>
    </message>
    <message>
        <source>Translate</source>
        <translation>翻译</translation>
    </message>
    <message>
        <source>Translate “Good morning, how are you?” into Chinese.</source>
        <translation>把“Good morning, how are you?”翻译成中文。</translation>
    </message>
    <message>
        <source>What shall we talk about?</source>
        <translation>我们聊点什么？</translation>
    </message>
    <message>
        <source>Everything runs on this computer: your chats never leave it. Pick a start or write your own message below.</source>
        <translation>一切都在这台电脑上运行：你的对话绝不会离开它。选一个开头，或在下方输入你自己的消息。</translation>
    </message>
    <message>
        <source>Get it</source>
        <translation>获取</translation>
    </message>
    <message>
        <source>Recommended for this computer: {name} {speed}</source>
        <translation>推荐给这台电脑：{name} {speed}</translation>
    </message>
    <message>
        <source>Recommended for this computer: {name}</source>
        <translation>为本机推荐：{name}</translation>
    </message>
    <message>
        <source>a bigger model than the small one bundled with EdgeChat: better answers</source>
        <translation>比 EdgeChat 内置的小模型更大：回答质量更好</translation>
    </message>
</context>
<context>
    <name>Worker</name>
    <message>
        <source>This could not be done: {reason}. Details are in the log:
{path}</source>
        <translation>无法完成：{reason}。详情见日志：
{path}</translation>
    </message>
    <message>
        <source>Something went wrong inside EdgeChat. Details are in the log:
{path}</source>
        <translation>EdgeChat 内部出错。详情见日志：
{path}</translation>
    </message>
</context>
</TS>
