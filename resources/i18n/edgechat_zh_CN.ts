<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
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
    <name>ContextMeter</name>
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
        <source>System prompt: {system} · Chat: {history} · Your message: {draft}
Kept free for the reply: {reserve} · Context length: {size}
Counted with the model&apos;s own tokenizer.</source>
        <translation>系统提示词：{system} · 对话：{history} · 你的消息：{draft}
为回复预留：{reserve} · 上下文长度：{size}
按模型自带的分词器计数。</translation>
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
        <source>Resuming…</source>
        <translation>正在继续…</translation>
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
        <source>Retry</source>
        <translation>重试</translation>
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
        <source>Name</source>
        <translation>名称</translation>
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
        <source>Fit here</source>
        <translation>本机适配</translation>
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
        <source>Search GGUF and ONNX repositories on Hugging Face…</source>
        <translation>在 Hugging Face 上搜索 GGUF 和 ONNX 仓库…</translation>
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
        <source>{count} catalog entries were skipped as malformed.</source>
        <translation>已跳过 {count} 个格式有误的目录条目。</translation>
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
        <source>Fit:</source>
        <translation>适配：</translation>
    </message>
    <message>
        <source>Parameters:</source>
        <translation>参数量：</translation>
    </message>
    <message>
        <source>Context:</source>
        <translation>上下文：</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>大小：</translation>
    </message>
    <message>
        <source>Licence:</source>
        <translation>许可证：</translation>
    </message>
    <message>
        <source>Gated:</source>
        <translation>访问受限：</translation>
    </message>
    <message>
        <source>From:</source>
        <translation>来源：</translation>
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
        <source>Import a GGUF file</source>
        <translation>导入 GGUF 文件</translation>
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
        <source>Searching…</source>
        <translation>正在搜索…</translation>
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
    <name>MainWindow</name>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
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
        <source>Loading model…</source>
        <translation>正在加载模型…</translation>
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
        <source>Chat se&amp;ttings</source>
        <translation>对话设置(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
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
        <source>Could not read {path}: {reason}</source>
        <translation>无法读取 {path}：{reason}</translation>
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
        <source>, {threads} threads</source>
        <translation>，{threads} 个线程</translation>
    </message>
    <message>
        <source>Device: {device} ({reason})</source>
        <translation>设备：{device}（{reason}）</translation>
    </message>
</context>
<context>
    <name>MarkdownView</name>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
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
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy this message as Markdown</source>
        <translation>以 Markdown 格式复制此消息</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Edit and send again as a new version</source>
        <translation>编辑后作为新版本重新发送</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Write a new version of this reply</source>
        <translation>为此回复生成新版本</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Delete this message</source>
        <translation>删除此消息</translation>
    </message>
    <message>
        <source>left out of the context</source>
        <translation>未纳入上下文</translation>
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
        <source>Sends as a new version; the current one is kept.</source>
        <translation>将作为新版本发送，当前版本会保留。</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
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
</TS>
